#pragma once
// The PROXY protocol headers `berth probe` sends from a trusted source (SPEC §5): v1 text and v2
// binary, for a TCP connection from a documentation address. Header-only and pure, so tests check the
// bytes with berth's own parser.

#include <array>
#include <cstdint>
#include <string>

#include "berth/model/ip_address.hpp"
#include "berth/model/socket_addr.hpp"

namespace berth::probe {

enum class ProxyHeaderToSend : unsigned char { none, v1, v2 };

/// The source a probe's PROXY header claims: 192.0.2.10:40000 (IPv4) or [2001:db8::10]:40000 (IPv6).
inline SocketAddr proxy_claimed_source(bool v4) {
    return {v4 ? IpAddress::v4({192, 0, 2, 10})
               : IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}),
            40000};
}

namespace detail {

inline void append_be16(std::string& out, std::uint16_t value) {
    out += static_cast<char>(value >> 8);
    out += static_cast<char>(value & 0xff);
}

template <std::size_t N>
void append_bytes(std::string& out, const std::array<std::uint8_t, N>& bytes) {
    for (const auto b : bytes) out += static_cast<char>(b);
}

}  // namespace detail

/// The header for a TCP connection to `target` from proxy_claimed_source (empty for `none`).
inline std::string proxy_header(ProxyHeaderToSend version, const SocketAddr& target) {
    const bool v4 = target.address().is_v4();
    const SocketAddr source = proxy_claimed_source(v4);
    if (version == ProxyHeaderToSend::none) return {};
    if (version == ProxyHeaderToSend::v1)
        return std::string("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + source.address().to_string() + " " +
               target.address().to_string() + " " + std::to_string(source.port()) + " " +
               std::to_string(target.port()) + "\r\n";
    std::string header("\r\n\r\n\0\r\nQUIT\n", 12);  // the v2 signature
    header += '\x21';                                // version 2, PROXY command
    header += v4 ? '\x11' : '\x21';                  // TCP over IPv4 / IPv6
    detail::append_be16(header, v4 ? 12 : 36);       // the address block's length
    if (v4) {
        detail::append_bytes(header, source.address().v4_bytes());
        detail::append_bytes(header, target.address().v4_bytes());
    } else {
        detail::append_bytes(header, source.address().v6_bytes());
        detail::append_bytes(header, target.address().v6_bytes());
    }
    detail::append_be16(header, source.port());
    detail::append_be16(header, target.port());
    return header;
}

}  // namespace berth::probe
