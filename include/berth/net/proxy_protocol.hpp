#pragma once
// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) as a pure parser over
// bytes: no I/O, no Asio, never a read past the input it is given. The acceptor's reader feeds it what
// arrived so far and acts on the answer: need more bytes, a complete header (and its length), or an
// error with its reason. It is also what the fuzzer and the benchmark drive directly.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "berth/model/ip_address.hpp"
#include "berth/model/socket_addr.hpp"

namespace berth {

enum class ProxyVersion : std::uint8_t { v1 = 1, v2 = 2 };

/// v2 LOCAL: the proxy's own connection (a health check); the addresses, if any, mean nothing.
/// v1 has only PROXY.
enum class ProxyCommand : std::uint8_t { proxy, local };

/// What the header says about the client's connection. v1 TCP4/TCP6/UNKNOWN map to inet, inet6,
/// unspecified; v2 carries the family nibble as sent.
enum class ProxyFamily : std::uint8_t { unspecified, inet, inet6, unix_socket };
enum class ProxyTransport : std::uint8_t { unspecified, stream, datagram };

struct ProxyHeader {
    ProxyVersion version = ProxyVersion::v1;
    ProxyCommand command = ProxyCommand::proxy;
    ProxyFamily family = ProxyFamily::unspecified;
    ProxyTransport transport = ProxyTransport::unspecified;
    /// The client and the address it connected to. Present only for a PROXY command with a TCP
    /// (v1 TCP4/TCP6, v2 INET/INET6 over STREAM) connection; otherwise the receiver keeps the real
    /// TCP peer (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC, UNIX or DGRAM).
    std::optional<SocketAddr> source;
    std::optional<SocketAddr> destination;
    /// v2: how many bytes of TLVs followed the address block (each one length-checked, then skipped).
    std::size_t tlv_bytes = 0;

    friend bool operator==(const ProxyHeader&, const ProxyHeader&) = default;
};

enum class ProxyError : std::uint8_t {
    not_a_proxy_header,        ///< neither the v1 `PROXY ` prefix nor the v2 signature
    v1_line_too_long,          ///< no CRLF within 107 bytes
    v1_malformed,              ///< a bare LF, a missing or doubled space, a missing field
    v1_unknown_protocol,       ///< not TCP4, TCP6 or UNKNOWN
    v1_bad_address,            ///< not an address of the family the line names
    v1_bad_port,               ///< not a decimal 0..65535 without leading zeros
    v2_bad_version,            ///< the version nibble is not 2
    v2_bad_command,            ///< neither LOCAL nor PROXY
    v2_bad_family,             ///< an address family or transport nibble out of range
    v2_header_too_large,       ///< longer than the receiver's limit (checked before waiting for it)
    v2_address_block_truncated,///< the length is shorter than the family's address block
    v2_bad_tlv,                ///< a TLV that does not fit exactly in the header
};

[[nodiscard]] constexpr std::string_view describe(ProxyError error) noexcept {
    switch (error) {
    case ProxyError::not_a_proxy_header: return "not a PROXY protocol header";
    case ProxyError::v1_line_too_long: return "PROXY v1 line longer than 107 bytes";
    case ProxyError::v1_malformed: return "malformed PROXY v1 line";
    case ProxyError::v1_unknown_protocol: return "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN";
    case ProxyError::v1_bad_address: return "PROXY v1 address is not an address of the named family";
    case ProxyError::v1_bad_port: return "PROXY v1 port is not a decimal number 0..65535";
    case ProxyError::v2_bad_version: return "PROXY v2 version is not 2";
    case ProxyError::v2_bad_command: return "PROXY v2 command is neither LOCAL nor PROXY";
    case ProxyError::v2_bad_family: return "PROXY v2 address family or transport out of range";
    case ProxyError::v2_header_too_large: return "PROXY v2 header larger than the receiver accepts";
    case ProxyError::v2_address_block_truncated: return "PROXY v2 length shorter than its address block";
    case ProxyError::v2_bad_tlv: return "PROXY v2 TLV does not fit in the header";
    }
    return "PROXY protocol error";
}

enum class ProxyParseStatus : std::uint8_t { need_more, complete, error };

struct ProxyParseResult {
    ProxyParseStatus status = ProxyParseStatus::need_more;
    ProxyHeader header;         ///< when complete
    std::size_t consumed = 0;   ///< when complete: the header's length; the bytes after it belong to the next layer
    ProxyError error = ProxyError::not_a_proxy_header;  ///< when error

    [[nodiscard]] bool needs_more() const noexcept { return status == ProxyParseStatus::need_more; }
    [[nodiscard]] bool complete() const noexcept { return status == ProxyParseStatus::complete; }
    [[nodiscard]] bool failed() const noexcept { return status == ProxyParseStatus::error; }

    static ProxyParseResult more() noexcept { return {}; }
    static ProxyParseResult done(ProxyHeader header, std::size_t consumed) noexcept {
        return {ProxyParseStatus::complete, std::move(header), consumed, ProxyError::not_a_proxy_header};
    }
    static ProxyParseResult fail(ProxyError error) noexcept { return {ProxyParseStatus::error, {}, 0, error}; }
};

/// The v1 line, CRLF included, is at most 107 bytes (the specification's worst case, TCP6).
inline constexpr std::size_t proxy_v1_max_length = 107;
/// The v2 fixed part: 12-byte signature, version/command, family/transport, 16-bit length.
inline constexpr std::size_t proxy_v2_fixed_length = 16;
inline constexpr std::array<std::uint8_t, 12> proxy_v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                                 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

struct ProxyLimits {
    /// The largest v2 header (fixed part, addresses and TLVs) the receiver accepts. A sender's TLVs
    /// (ALPN, authority, unique id, TLS details) stay well below this; anything larger is refused as
    /// soon as its length field arrives.
    std::size_t max_v2_header_size = 1024;
};

namespace detail {

inline constexpr std::string_view proxy_v1_prefix = "PROXY ";

/// Whether `input` and `expected` agree on every byte both have (`input` may be shorter or longer).
constexpr bool is_prefix_of(std::span<const std::uint8_t> input, std::span<const std::uint8_t> expected) noexcept {
    const std::size_t n = input.size() < expected.size() ? input.size() : expected.size();
    for (std::size_t i = 0; i < n; ++i)
        if (input[i] != expected[i]) return false;
    return true;
}

constexpr std::optional<std::uint16_t> parse_v1_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5) return std::nullopt;
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    std::uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

/// Address text of the family named by the v1 line; characters are checked first so that only a
/// plausible token reaches the address parser.
inline std::optional<IpAddress> parse_v1_address(std::string_view text, bool v6) {
    if (text.empty()) return std::nullopt;
    for (char c : text) {
        const bool digit = c >= '0' && c <= '9';
        const bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!(digit || c == '.' || (v6 && (hex || c == ':')))) return std::nullopt;
    }
    auto parsed = IpAddress::parse(text);
    if (!parsed || parsed->is_v6() != v6) return std::nullopt;
    return *parsed;
}

/// Splits `text` at single spaces into exactly N non-empty fields.
template <std::size_t N>
constexpr std::optional<std::array<std::string_view, N>> split_fields(std::string_view text) noexcept {
    std::array<std::string_view, N> fields{};
    for (std::size_t i = 0; i < N; ++i) {
        const std::size_t space = text.find(' ');
        const bool last = i + 1 == N;
        if (last != (space == std::string_view::npos)) return std::nullopt;
        fields[i] = last ? text : text.substr(0, space);
        if (fields[i].empty()) return std::nullopt;
        if (!last) text.remove_prefix(space + 1);
    }
    return fields;
}

inline ProxyParseResult parse_proxy_v1(std::span<const std::uint8_t> input) {
    const std::span<const std::uint8_t> prefix(reinterpret_cast<const std::uint8_t*>(proxy_v1_prefix.data()),
                                               proxy_v1_prefix.size());
    if (!is_prefix_of(input, prefix)) return ProxyParseResult::fail(ProxyError::not_a_proxy_header);

    const std::size_t window = input.size() < proxy_v1_max_length ? input.size() : proxy_v1_max_length;
    std::size_t line_end = window;  // index of the CR of CRLF
    for (std::size_t i = 0; i < window; ++i) {
        if (input[i] == '\n') return ProxyParseResult::fail(ProxyError::v1_malformed);  // LF without CR before it
        if (input[i] == '\r') {
            if (i + 1 >= proxy_v1_max_length) return ProxyParseResult::fail(ProxyError::v1_line_too_long);
            if (i + 1 == input.size()) return ProxyParseResult::more();  // the LF may still come
            if (input[i + 1] != '\n') return ProxyParseResult::fail(ProxyError::v1_malformed);
            line_end = i;
            break;
        }
    }
    if (line_end == window)
        return window == proxy_v1_max_length ? ProxyParseResult::fail(ProxyError::v1_line_too_long)
                                             : ProxyParseResult::more();

    const std::string_view line(reinterpret_cast<const char*>(input.data()) + prefix.size(), line_end - prefix.size());
    const std::size_t consumed = line_end + 2;

    const std::size_t protocol_end = line.find(' ');
    const std::string_view protocol = line.substr(0, protocol_end);
    ProxyHeader header;
    header.version = ProxyVersion::v1;
    header.command = ProxyCommand::proxy;
    if (protocol == "UNKNOWN") {
        // "the receiver must ignore anything presented before the CRLF is found"
        header.family = ProxyFamily::unspecified;
        header.transport = ProxyTransport::unspecified;
        return ProxyParseResult::done(std::move(header), consumed);
    }
    const bool v6 = protocol == "TCP6";
    if (!v6 && protocol != "TCP4") return ProxyParseResult::fail(ProxyError::v1_unknown_protocol);
    if (protocol_end == std::string_view::npos) return ProxyParseResult::fail(ProxyError::v1_malformed);

    const auto fields = split_fields<4>(line.substr(protocol_end + 1));
    if (!fields) return ProxyParseResult::fail(ProxyError::v1_malformed);
    const auto source = parse_v1_address((*fields)[0], v6);
    const auto destination = parse_v1_address((*fields)[1], v6);
    if (!source || !destination) return ProxyParseResult::fail(ProxyError::v1_bad_address);
    const auto source_port = parse_v1_port((*fields)[2]);
    const auto destination_port = parse_v1_port((*fields)[3]);
    if (!source_port || !destination_port) return ProxyParseResult::fail(ProxyError::v1_bad_port);

    header.family = v6 ? ProxyFamily::inet6 : ProxyFamily::inet;
    header.transport = ProxyTransport::stream;
    header.source = SocketAddr(*source, *source_port);
    header.destination = SocketAddr(*destination, *destination_port);
    return ProxyParseResult::done(std::move(header), consumed);
}

constexpr std::uint16_t read_be16(std::span<const std::uint8_t> bytes, std::size_t at) noexcept {
    return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

inline ProxyParseResult parse_proxy_v2(std::span<const std::uint8_t> input, const ProxyLimits& limits) {
    if (!is_prefix_of(input, proxy_v2_signature)) return ProxyParseResult::fail(ProxyError::not_a_proxy_header);
    // Each field is checked as soon as it has arrived, so garbage is refused without waiting for more.
    if (input.size() > 12 && (input[12] >> 4) != 0x2) return ProxyParseResult::fail(ProxyError::v2_bad_version);
    if (input.size() > 12 && (input[12] & 0x0F) > 0x1) return ProxyParseResult::fail(ProxyError::v2_bad_command);
    if (input.size() > 13 && ((input[13] >> 4) > 0x3 || (input[13] & 0x0F) > 0x2))
        return ProxyParseResult::fail(ProxyError::v2_bad_family);
    if (input.size() < proxy_v2_fixed_length) return ProxyParseResult::more();

    const std::size_t total = proxy_v2_fixed_length + read_be16(input, 14);
    if (total > limits.max_v2_header_size) return ProxyParseResult::fail(ProxyError::v2_header_too_large);
    if (input.size() < total) return ProxyParseResult::more();

    ProxyHeader header;
    header.version = ProxyVersion::v2;
    header.command = (input[12] & 0x0F) == 0x1 ? ProxyCommand::proxy : ProxyCommand::local;
    header.family = static_cast<ProxyFamily>(input[13] >> 4);
    header.transport = static_cast<ProxyTransport>(input[13] & 0x0F);

    std::size_t address_block = 0;
    switch (header.family) {
    case ProxyFamily::unspecified:
        // UNSPEC: the bytes after the fixed part are not defined; the receiver ignores them.
        return ProxyParseResult::done(std::move(header), total);
    case ProxyFamily::inet: address_block = 12; break;
    case ProxyFamily::inet6: address_block = 36; break;
    case ProxyFamily::unix_socket: address_block = 216; break;
    }
    const std::size_t length = total - proxy_v2_fixed_length;
    if (length < address_block) return ProxyParseResult::fail(ProxyError::v2_address_block_truncated);

    // TLVs: type (1 byte), length (2 bytes, big-endian), value; they must tile the rest exactly.
    std::size_t at = proxy_v2_fixed_length + address_block;
    while (at < total) {
        if (total - at < 3) return ProxyParseResult::fail(ProxyError::v2_bad_tlv);
        const std::size_t value_length = read_be16(input, at + 1);
        if (total - at - 3 < value_length) return ProxyParseResult::fail(ProxyError::v2_bad_tlv);
        at += 3 + value_length;
    }
    header.tlv_bytes = length - address_block;

    const bool tcp = header.command == ProxyCommand::proxy && header.transport == ProxyTransport::stream &&
                     (header.family == ProxyFamily::inet || header.family == ProxyFamily::inet6);
    if (tcp) {
        const std::size_t a = proxy_v2_fixed_length;
        if (header.family == ProxyFamily::inet) {
            header.source = SocketAddr(IpAddress::v4({input[a], input[a + 1], input[a + 2], input[a + 3]}),
                                       read_be16(input, a + 8));
            header.destination = SocketAddr(
                IpAddress::v4({input[a + 4], input[a + 5], input[a + 6], input[a + 7]}), read_be16(input, a + 10));
        } else {
            std::array<std::uint8_t, 16> source{};
            std::array<std::uint8_t, 16> destination{};
            for (std::size_t i = 0; i < 16; ++i) {
                source[i] = input[a + i];
                destination[i] = input[a + 16 + i];
            }
            header.source = SocketAddr(IpAddress::v6(source), read_be16(input, a + 32));
            header.destination = SocketAddr(IpAddress::v6(destination), read_be16(input, a + 34));
        }
    }
    return ProxyParseResult::done(std::move(header), total);
}

}  // namespace detail

/// Parses a PROXY header at the start of `input` (everything received so far). The first byte decides
/// the version: `P` v1, `\r` v2, anything else is not a PROXY header. Reads only `input`.
[[nodiscard]] inline ProxyParseResult parse_proxy_header(std::span<const std::uint8_t> input,
                                                         const ProxyLimits& limits = {}) {
    if (input.empty()) return ProxyParseResult::more();
    if (input[0] == 'P') return detail::parse_proxy_v1(input);
    if (input[0] == '\r') return detail::parse_proxy_v2(input, limits);
    return ProxyParseResult::fail(ProxyError::not_a_proxy_header);
}

[[nodiscard]] inline ProxyParseResult parse_proxy_header(std::string_view input, const ProxyLimits& limits = {}) {
    return parse_proxy_header(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()), limits);
}

}  // namespace berth
