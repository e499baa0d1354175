#pragma once
// RapidCheck generators for berth's value types: values, and valid spellings canonical or not.

#include <berth/model/duration.hpp>
#include <berth/model/ip_address.hpp>
#include <berth/model/ip_mask.hpp>
#include <berth/model/protocol.hpp>
#include <berth/model/socket_addr.hpp>
#include <berth/model/tls.hpp>

#include <rapidcheck.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

// Counterexamples print as canonical text (RapidCheck finds showValue by argument-dependent lookup).
namespace berth {
inline void showValue(const IpAddress& value, std::ostream& os) { os << value.to_string(); }
inline void showValue(const SocketAddr& value, std::ostream& os) { os << value.to_string(); }
inline void showValue(const IpMask& value, std::ostream& os) { os << value.to_string(); }
inline void showValue(const Duration& value, std::ostream& os) { os << value.milliseconds() << "ms"; }
inline void showValue(Protocol value, std::ostream& os) { os << json_name(value); }
inline void showValue(TlsVersion value, std::ostream& os) { os << json_name(value); }
inline void showValue(TlsCipherSuite value, std::ostream& os) { os << json_name(value); }
}  // namespace berth

namespace berth::test_gen {

using Ipv4Bytes = std::array<std::uint8_t, 4>;
using Ipv6Bytes = std::array<std::uint8_t, 16>;

/// Whitespace characters that IpMask::parse trims.
inline constexpr std::string_view ascii_spaces = " \t\n\v\f\r";

/// A bool that is true about one time in `n`.
inline bool one_in(int n) { return *rc::gen::inRange(0, n) == 0; }

/// Each ASCII letter upper- or lower-case at random.
inline std::string random_case(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (!one_in(2)) continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        else if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

/// `value` in decimal, usually as is, sometimes with leading zeros (a few, or many).
inline std::string decimal_spelling(std::uint64_t value) {
    std::string digits = std::to_string(value);
    const int choice = *rc::gen::inRange(0, 8);
    std::size_t zeros = 0;
    if (choice == 0) zeros = static_cast<std::size_t>(*rc::gen::inRange(1, 4));
    else if (choice == 1) zeros = static_cast<std::size_t>(*rc::gen::inRange(4, 30));
    return std::string(zeros, '0') + digits;
}

inline rc::Gen<Ipv4Bytes> ipv4_bytes() {
    return rc::gen::exec([] {
        Ipv4Bytes bytes{};
        for (auto& b : bytes)
            b = *rc::gen::weightedOneOf<std::uint8_t>({{3, rc::gen::arbitrary<std::uint8_t>()},
                                                       {1, rc::gen::just<std::uint8_t>(0)},
                                                       {1, rc::gen::just<std::uint8_t>(255)}});
        return bytes;
    });
}

/// IPv6 bytes with plenty of zero groups (so `::` compression is exercised), and the special
/// shapes: IPv4-mapped, IPv4-compatible, unspecified, loopback.
inline rc::Gen<Ipv6Bytes> ipv6_bytes() {
    return rc::gen::exec([] {
        Ipv6Bytes bytes{};
        const int shape = *rc::gen::inRange(0, 12);
        if (shape <= 1) {  // ::ffff:a.b.c.d or ::a.b.c.d
            const auto v4 = *ipv4_bytes();
            if (shape == 0) bytes[10] = bytes[11] = 0xff;
            for (std::size_t i = 0; i < 4; ++i) bytes[12 + i] = v4[i];
            return bytes;
        }
        if (shape == 2) {  // :: or ::1
            bytes[15] = static_cast<std::uint8_t>(*rc::gen::inRange(0, 2));
            return bytes;
        }
        for (std::size_t g = 0; g < 8; ++g) {
            const auto group = *rc::gen::weightedOneOf<std::uint16_t>({{4, rc::gen::just<std::uint16_t>(0)},
                                                                       {2, rc::gen::inRange<std::uint16_t>(1, 256)},
                                                                       {2, rc::gen::arbitrary<std::uint16_t>()},
                                                                       {1, rc::gen::just<std::uint16_t>(0xffff)}});
            bytes[2 * g] = static_cast<std::uint8_t>(group >> 8);
            bytes[2 * g + 1] = static_cast<std::uint8_t>(group & 0xff);
        }
        return bytes;
    });
}

inline std::string ipv4_spelling(const Ipv4Bytes& octets) {
    // IPv4 has one spelling only: leading zeros are invalid.
    return detail::format_ipv4(octets);
}

/// A hex group with random case and 0-3 leading zeros (never more than four digits).
inline std::string hex_group_spelling(unsigned value) {
    constexpr char hex[] = "0123456789abcdef";
    std::string digits;
    do {
        digits.insert(digits.begin(), hex[value & 0xf]);
        value >>= 4;
    } while (value != 0);
    const auto padding = static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(4 - digits.size()) + 1));
    return random_case(std::string(padding, '0') + digits);
}

/// Any spelling Rust's parser accepts for these bytes: optional dotted IPv4 tail, `::` on any
/// run of zero groups (also one group long, also not the longest) or none, hex in any case with
/// leading zeros.
inline std::string ipv6_spelling(const Ipv6Bytes& bytes) {
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i) groups[i] = (unsigned{bytes[2 * i]} << 8) | bytes[2 * i + 1];
    const bool ipv4_tail = one_in(3);
    const std::size_t hex_end = ipv4_tail ? 6 : 8;

    std::vector<std::pair<std::size_t, std::size_t>> zero_runs;  // maximal [begin, end) below hex_end
    for (std::size_t i = 0; i < hex_end;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < hex_end && groups[end] == 0) ++end;
        zero_runs.emplace_back(i, end);
        i = end;
    }
    std::size_t compress_begin = hex_end, compress_end = hex_end;  // empty: no `::`
    if (!zero_runs.empty() && !one_in(4)) {
        const auto run = zero_runs[static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(zero_runs.size())))];
        compress_begin = static_cast<std::size_t>(*rc::gen::inRange(static_cast<int>(run.first), static_cast<int>(run.second)));
        compress_end = static_cast<std::size_t>(
            *rc::gen::inRange(static_cast<int>(compress_begin) + 1, static_cast<int>(run.second) + 1));
    }
    const bool compressed = compress_begin < compress_end;

    std::string text;
    for (std::size_t i = 0; i < compress_begin; ++i) {
        if (i != 0) text += ":";
        text += hex_group_spelling(groups[i]);
    }
    if (compressed) text += "::";
    for (std::size_t i = compressed ? compress_end : compress_begin; i < hex_end; ++i) {
        if (!text.empty() && text.back() != ':') text += ":";
        text += hex_group_spelling(groups[i]);
    }
    if (ipv4_tail) {
        if (!text.empty() && text.back() != ':') text += ":";
        text += detail::format_ipv4({bytes[12], bytes[13], bytes[14], bytes[15]});
    }
    return text;
}

/// A valid bind address and the value it stands for.
struct SocketAddrSpelling {
    std::string text;
    SocketAddr value;
};

inline rc::Gen<SocketAddrSpelling> socket_addr_spelling() {
    return rc::gen::exec([] {
        const auto port = *rc::gen::arbitrary<std::uint16_t>();
        if (one_in(2)) {
            const auto octets = *ipv4_bytes();
            return SocketAddrSpelling{ipv4_spelling(octets) + ":" + decimal_spelling(port),
                                      SocketAddr(IpAddress::v4(octets), port)};
        }
        const auto bytes = *ipv6_bytes();
        std::string inside = ipv6_spelling(bytes);
        std::uint32_t scope = 0;
        if (one_in(3)) {
            scope = *rc::gen::weightedOneOf<std::uint32_t>({{3, rc::gen::inRange<std::uint32_t>(0, 100)},
                                                            {1, rc::gen::arbitrary<std::uint32_t>()},
                                                            {1, rc::gen::just(std::numeric_limits<std::uint32_t>::max())}});
            inside += "%" + decimal_spelling(scope);  // `%0` too: valid, printed without a scope
        }
        return SocketAddrSpelling{"[" + inside + "]:" + decimal_spelling(port),
                                  SocketAddr(IpAddress::v6(bytes, scope), port)};
    });
}

/// A valid trusted-network entry: maybe surrounded by whitespace, prefix written or not (and
/// written even when full-length), with leading zeros; host bits may be set.
inline rc::Gen<std::string> ip_mask_spelling() {
    return rc::gen::exec([] {
        std::string address;
        unsigned full = 32;
        if (one_in(2)) {
            auto octets = *ipv4_bytes();
            if (octets == Ipv4Bytes{}) octets[0] = 10;  // 0.0.0.0 is refused with any prefix
            address = ipv4_spelling(octets);
        } else {
            address = ipv6_spelling(*ipv6_bytes());
            full = 128;
        }
        std::string text = address;
        if (!one_in(4)) {
            const auto prefix = *rc::gen::inRange<unsigned>(8, full + 1);
            // A short IPv6 prefix over the IPv4-mapped block is refused: such a draw stays a host.
            if (berth::IpMask::parse(address + "/" + std::to_string(prefix))) text += "/" + decimal_spelling(prefix);
        }
        const auto pad = [] {
            std::string spaces;
            const int count = *rc::gen::inRange(0, 3);
            for (int i = 0; i < count; ++i)
                spaces += ascii_spaces[static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(ascii_spaces.size())))];
            return spaces;
        };
        return pad() + text + pad();
    });
}

/// A valid duration: `<digits><unit>` with leading zeros sometimes, the unit in any case, any
/// number that fits 64-bit milliseconds (small ones more often).
inline rc::Gen<std::string> duration_spelling() {
    return rc::gen::exec([] {
        const auto& unit = detail::duration_units[static_cast<std::size_t>(
            *rc::gen::inRange(0, static_cast<int>(detail::duration_units.size())))];
        const std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max() / unit.milliseconds;
        const std::uint64_t count = *rc::gen::weightedOneOf<std::uint64_t>(
            {{4, rc::gen::inRange<std::uint64_t>(0, 1000)},
             {2, rc::gen::inRange<std::uint64_t>(0, max_count)},
             {1, rc::gen::just(max_count)}});
        return decimal_spelling(count) + random_case(unit.name);
    });
}

inline std::vector<Protocol> protocols() { return {all_protocols().begin(), all_protocols().end()}; }
inline std::vector<TlsVersion> tls_versions() { return {all_tls_versions().begin(), all_tls_versions().end()}; }
inline std::vector<TlsCipherSuite> cipher_suites() { return {all_cipher_suites().begin(), all_cipher_suites().end()}; }

/// A protocol as TOML accepts it: its TOML or JSON name, or `https` for HTTP, in any case.
inline rc::Gen<std::string> protocol_toml_spelling() {
    return rc::gen::exec([] {
        const Protocol protocol = *rc::gen::elementOf(protocols());
        std::string_view name = one_in(2) ? toml_name(protocol) : json_name(protocol);
        if (protocol == Protocol::http && one_in(2)) name = "https";
        return random_case(name);
    });
}

/// JSON names are exact: the one spelling.
inline rc::Gen<std::string> protocol_json_spelling() {
    return rc::gen::map(rc::gen::elementOf(protocols()), [](Protocol p) { return std::string(json_name(p)); });
}

/// `TLSv1.2` or `0x0303`, `TLSv1.3` or `0x0304`.
inline rc::Gen<std::string> tls_version_toml_spelling() {
    return rc::gen::exec([] {
        const TlsVersion version = *rc::gen::elementOf(tls_versions());
        if (one_in(2)) return std::string(toml_name(version));
        return std::string(version == TlsVersion::tls12 ? "0x0303" : "0x0304");
    });
}

inline rc::Gen<std::string> tls_version_json_spelling() {
    return rc::gen::map(rc::gen::elementOf(tls_versions()), [](TlsVersion v) { return std::string(json_name(v)); });
}

inline rc::Gen<std::string> cipher_suite_toml_spelling() {
    return rc::gen::map(rc::gen::elementOf(cipher_suites()), [](TlsCipherSuite s) { return std::string(toml_name(s)); });
}

inline rc::Gen<std::string> cipher_suite_json_spelling() {
    return rc::gen::map(rc::gen::elementOf(cipher_suites()), [](TlsCipherSuite s) { return std::string(json_name(s)); });
}

/// Text that is mostly the raw material of addresses and durations, so random inputs get deep
/// into the parsers instead of failing at the first byte; sometimes any bytes at all.
inline rc::Gen<std::string> address_like_text() {
    static constexpr char letters[] = "0123456789abcdefABCDEF:.[]%/ \tmshdxyz*+-\0\xff";
    static const std::string alphabet(letters, sizeof letters - 1);  // keeps the NUL
    return rc::gen::oneOf(rc::gen::container<std::string>(rc::gen::elementOf(alphabet)),
                          rc::gen::arbitrary<std::string>());
}

}  // namespace berth::test_gen

namespace rc {

/// Any address without a scope id (IpAddress::parse takes none).
template <>
struct Arbitrary<berth::IpAddress> {
    static Gen<berth::IpAddress> arbitrary() {
        return gen::oneOf(gen::map(berth::test_gen::ipv4_bytes(), [](const auto& b) { return berth::IpAddress::v4(b); }),
                          gen::map(berth::test_gen::ipv6_bytes(), [](const auto& b) { return berth::IpAddress::v6(b); }));
    }
};

/// Any socket address, IPv6 ones with or without a scope id.
template <>
struct Arbitrary<berth::SocketAddr> {
    static Gen<berth::SocketAddr> arbitrary() {
        return gen::map(berth::test_gen::socket_addr_spelling(),
                        [](const berth::test_gen::SocketAddrSpelling& s) { return s.value; });
    }
};

/// Any valid mask: IPv4 not 0.0.0.0, prefix 8..32 or 8..128, host bits sometimes set.
template <>
struct Arbitrary<berth::IpMask> {
    static Gen<berth::IpMask> arbitrary() {
        return gen::exec([] {
            std::string address;
            unsigned full = 32;
            if (*gen::arbitrary<bool>()) {
                auto octets = *berth::test_gen::ipv4_bytes();
                if (octets == berth::test_gen::Ipv4Bytes{}) octets[3] = 1;
                address = berth::IpAddress::v4(octets).to_string();
            } else {
                address = berth::IpAddress::v6(*berth::test_gen::ipv6_bytes()).to_string();
                full = 128;
            }
            const auto prefix = *gen::inRange<unsigned>(8, full + 1);
            auto mask = berth::IpMask::parse(address + "/" + std::to_string(prefix));
            // A short IPv6 prefix over the IPv4-mapped block is refused (it would trust all of IPv4): use the host.
            if (!mask) return berth::IpMask::parse(address).value();
            return std::move(mask).value();
        });
    }
};

/// Any duration, multiples of each unit as often as arbitrary milliseconds.
template <>
struct Arbitrary<berth::Duration> {
    static Gen<berth::Duration> arbitrary() {
        return gen::exec([] {
            const auto& unit = berth::detail::duration_units[static_cast<std::size_t>(
                *gen::inRange(0, static_cast<int>(berth::detail::duration_units.size())))];
            const std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max() / unit.milliseconds;
            const auto count = *gen::weightedOneOf<std::uint64_t>(
                {{3, gen::inRange<std::uint64_t>(0, 1000)}, {1, gen::inRange<std::uint64_t>(0, max_count)}});
            return berth::Duration::from_milliseconds(count * unit.milliseconds);
        });
    }
};

template <>
struct Arbitrary<berth::Protocol> {
    static Gen<berth::Protocol> arbitrary() { return gen::elementOf(berth::test_gen::protocols()); }
};

template <>
struct Arbitrary<berth::TlsVersion> {
    static Gen<berth::TlsVersion> arbitrary() { return gen::elementOf(berth::test_gen::tls_versions()); }
};

template <>
struct Arbitrary<berth::TlsCipherSuite> {
    static Gen<berth::TlsCipherSuite> arbitrary() { return gen::elementOf(berth::test_gen::cipher_suites()); }
};

}  // namespace rc
