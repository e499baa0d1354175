// Properties of every value type: print → parse is the identity, parse → print reaches a fixed
// point after one step, masks match as a plain bit comparison says, and no input makes a parser throw.

#include "support/generators.hpp"

#include "support/rapidcheck_catch.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace berth;

namespace {

/// Parses, prints, parses the print and prints again: the two prints must agree, and so must the
/// two values.
template <class ParseFn>
void check_fixed_point(const std::string& spelling, ParseFn parse) {
    const auto first = parse(spelling);
    RC_ASSERT(first.has_value());
    const std::string printed = first->to_string();
    const auto second = parse(printed);
    RC_ASSERT(second.has_value());
    RC_ASSERT(*second == *first);
    RC_ASSERT(second->to_string() == printed);
}

/// Bit `i` (0 = most significant) of a byte array.
template <std::size_t N>
bool bit(const std::array<std::uint8_t, N>& bytes, unsigned i) {
    return ((bytes[i / 8] >> (7 - i % 8)) & 1) != 0;
}

/// The matching rule of SPEC §2.3 written as directly as possible: bit by bit, with the mapped
/// form spelled out byte by byte.
bool reference_matches(const IpMask& entry, const IpAddress& peer) {
    const unsigned prefix = entry.prefix();
    if (entry.address().is_v4()) {
        std::array<std::uint8_t, 4> peer_bytes{};
        if (peer.is_v4()) {
            peer_bytes = peer.v4_bytes();
        } else {
            const auto b = peer.v6_bytes();
            for (std::size_t i = 0; i < 10; ++i)
                if (b[i] != 0) return false;
            if (b[10] != 0xff || b[11] != 0xff) return false;
            peer_bytes = {b[12], b[13], b[14], b[15]};
        }
        const auto entry_bytes = entry.address().v4_bytes();
        for (unsigned i = 0; i < prefix; ++i)
            if (bit(entry_bytes, i) != bit(peer_bytes, i)) return false;
        return true;
    }
    std::array<std::uint8_t, 16> peer_bytes{};
    if (peer.is_v6()) {
        peer_bytes = peer.v6_bytes();
    } else {
        peer_bytes[10] = peer_bytes[11] = 0xff;
        const auto v4 = peer.v4_bytes();
        for (std::size_t i = 0; i < 4; ++i) peer_bytes[12 + i] = v4[i];
    }
    const auto entry_bytes = entry.address().v6_bytes();
    for (unsigned i = 0; i < prefix; ++i)
        if (bit(entry_bytes, i) != bit(peer_bytes, i)) return false;
    return true;
}

/// A peer near the entry: its address with some bits flipped (often only host bits, so that
/// matches are common), given as IPv4, IPv4-mapped or IPv4-compatible IPv6, or IPv6.
IpAddress peer_near(const IpMask& entry) {
    auto bytes = entry.address().v6_bytes();  // IPv4 entries start from their mapped form
    const unsigned first_bit = entry.address().is_v4() ? 96 : 0;
    const int flips = *rc::gen::inRange(0, 3);
    for (int i = 0; i < flips; ++i) {
        const bool host_bit = *rc::gen::arbitrary<bool>();
        const unsigned lowest = host_bit ? first_bit + entry.prefix() : first_bit;
        if (lowest >= 128) continue;
        const unsigned bit_index = *rc::gen::inRange(lowest, 128u);
        bytes[bit_index / 8] = static_cast<std::uint8_t>(bytes[bit_index / 8] ^ (0x80 >> (bit_index % 8)));
    }
    const auto as_v6 = IpAddress::v6(bytes, *rc::gen::inRange<std::uint32_t>(0, 3));
    if (const auto v4 = as_v6.mapped_v4(); v4) {
        switch (*rc::gen::inRange(0, 3)) {
        case 0: return *v4;
        case 1: return as_v6;
        default: {  // the IPv4-compatible form ::a.b.c.d of the same four bytes
            std::array<std::uint8_t, 16> compatible{};
            for (std::size_t i = 12; i < 16; ++i) compatible[i] = bytes[i];
            return IpAddress::v6(compatible);
        }
        }
    }
    return as_v6;
}

}  // namespace

TEST_CASE("IpAddress: print then parse is the identity", "[prop][ip]") {
    rc::prop("parse(to_string(a)) == a", [](const IpAddress& address) {
        const auto parsed = IpAddress::parse(address.to_string());
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == address);
    });
    rc::prop("the print has RFC 5952's shape", [](const IpAddress& address) {
        const std::string text = address.to_string();
        for (char c : text) RC_ASSERT(!(c >= 'A' && c <= 'Z'));
        if (address.is_v4()) return;
        const std::size_t compressed = text.find("::");
        RC_ASSERT(text.find("::", compressed == std::string::npos ? 0 : compressed + 1) == std::string::npos);
        // The first longest run of two or more zero groups, found by brute force.
        const auto bytes = address.v6_bytes();
        std::size_t run_start = 8, run_length = 0;
        for (std::size_t start = 0; start < 8; ++start) {
            std::size_t length = 0;
            while (start + length < 8 && bytes[2 * (start + length)] == 0 && bytes[2 * (start + length) + 1] == 0)
                ++length;
            if (length >= 2 && length > run_length) {
                run_start = start;
                run_length = length;
            }
        }
        if (!address.mapped_v4()) {
            RC_ASSERT((compressed != std::string::npos) == (run_length >= 2));
            if (compressed != std::string::npos) {  // `::` sits where that run starts
                const std::string head = text.substr(0, compressed);
                const auto head_groups = head.empty() ? 0 : 1 + std::count(head.begin(), head.end(), ':');
                RC_ASSERT(static_cast<std::size_t>(head_groups) == run_start);
            }
        }
        std::size_t groups = 0;
        std::string rest = text;
        while (!rest.empty()) {
            const std::size_t colon = rest.find(':');
            const std::string group = rest.substr(0, colon);
            if (group.find('.') != std::string::npos) {
                groups += 2;  // the dotted tail of ::ffff:a.b.c.d
            } else if (!group.empty()) {
                RC_ASSERT(group.size() <= 4);
                RC_ASSERT(group.size() == 1 || group.front() != '0');  // no leading zeros
                ++groups;
            }
            if (colon == std::string::npos) break;
            rest.erase(0, colon + 1);
        }
        if (compressed == std::string::npos) RC_ASSERT(groups == 8u);
        else RC_ASSERT(groups <= 6u);  // `::` never stands for a single group
        if (!address.mapped_v4() && compressed != std::string::npos) RC_ASSERT(groups + run_length == 8u);
    });
}

TEST_CASE("IpAddress: every valid spelling parses to its bytes and prints to a fixed point", "[prop][ip]") {
    rc::prop("IPv6 spellings", [] {
        const auto bytes = *test_gen::ipv6_bytes();
        const std::string spelling = test_gen::ipv6_spelling(bytes);
        RC_TAG(spelling.find("::") != std::string::npos ? "compressed" : "full");
        const auto parsed = IpAddress::parse(spelling);
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == IpAddress::v6(bytes));
        check_fixed_point(spelling, &IpAddress::parse);
    });
    rc::prop("IPv4 spellings", [] {
        const auto octets = *test_gen::ipv4_bytes();
        const std::string spelling = test_gen::ipv4_spelling(octets);
        RC_ASSERT(*IpAddress::parse(spelling) == IpAddress::v4(octets));
        check_fixed_point(spelling, &IpAddress::parse);
    });
}

TEST_CASE("SocketAddr: print then parse is the identity", "[prop][socket-addr]") {
    rc::prop("parse(to_string(a)) == a, up to scope id 0 meaning none", [](const SocketAddr& address) {
        const auto parsed = SocketAddr::parse(address.to_string());
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == address);
    });
}

TEST_CASE("SocketAddr: valid spellings", "[prop][socket-addr]") {
    rc::prop("parse gives the value spelt, print reaches a fixed point", [] {
        const auto spelling = *test_gen::socket_addr_spelling();
        const auto parsed = SocketAddr::parse(spelling.text);
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == spelling.value);
        check_fixed_point(spelling.text, &SocketAddr::parse);
    });
}

TEST_CASE("IpMask: print then parse is the identity", "[prop][ip-mask]") {
    rc::prop("parse(to_string(m)) == m", [](const IpMask& entry) {
        const auto parsed = IpMask::parse(entry.to_string());
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == entry);
    });
    rc::prop("valid spellings reach a fixed point", [] { check_fixed_point(*test_gen::ip_mask_spelling(), &IpMask::parse); });
}

TEST_CASE("IpMask: matches() agrees with a bit-by-bit reference", "[prop][ip-mask]") {
    rc::prop("peers near the entry", [](const IpMask& entry) {
        const IpAddress peer = peer_near(entry);
        const bool expected = reference_matches(entry, peer);
        RC_CLASSIFY(expected, "match");
        RC_ASSERT(entry.matches(peer) == expected);
    });
    rc::prop("any peer", [](const IpMask& entry, const IpAddress& peer) {
        RC_ASSERT(entry.matches(peer) == reference_matches(entry, peer));
    });
    rc::prop("an entry matches its own address, in IPv4 and mapped form", [](const IpMask& entry) {
        RC_ASSERT(entry.matches(entry.address()));
        if (entry.address().is_v4()) RC_ASSERT(entry.matches(IpAddress::v6(entry.address().v6_bytes())));
    });
    rc::prop("has_host_bits agrees with the reference", [](const IpMask& entry) {
        const unsigned full = entry.address().is_v4() ? 32 : 128;
        bool any = false;
        if (entry.address().is_v4()) {
            for (unsigned i = entry.prefix(); i < full; ++i) any = any || bit(entry.address().v4_bytes(), i);
        } else {
            for (unsigned i = entry.prefix(); i < full; ++i) any = any || bit(entry.address().v6_bytes(), i);
        }
        RC_ASSERT(entry.has_host_bits() == any);
    });
}

TEST_CASE("Duration: print then parse is the identity", "[prop][duration]") {
    rc::prop("parse(to_string(d)) == d", [](const Duration& duration) {
        const auto parsed = Duration::parse(duration.to_string());
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parsed == duration);
    });
    rc::prop("any millisecond count", [](std::uint64_t milliseconds) {
        const auto duration = Duration::from_milliseconds(milliseconds);
        RC_ASSERT(Duration::parse(duration.to_string())->milliseconds() == milliseconds);
    });
    rc::prop("the printed unit is the largest that divides exactly", [](const Duration& duration) {
        const std::string text = duration.to_string();
        const std::uint64_t ms = duration.milliseconds();
        if (ms == 0) {
            RC_ASSERT(text == "0ms");
            return;
        }
        for (const auto& unit : detail::duration_units) {
            if (ms % unit.milliseconds == 0) {
                RC_ASSERT(text == std::to_string(ms / unit.milliseconds) + std::string(unit.name));
                return;
            }
        }
    });
    rc::prop("valid spellings reach a fixed point", [] { check_fixed_point(*test_gen::duration_spelling(), &Duration::parse); });
}

TEST_CASE("Protocol and TLS names: print then parse, and every spelling", "[prop][protocol][tls]") {
    rc::prop("protocol names", [](Protocol protocol) {
        RC_ASSERT(*parse_protocol_json(json_name(protocol)) == protocol);
        RC_ASSERT(*parse_protocol_toml(toml_name(protocol)) == protocol);
    });
    rc::prop("TOML protocol spellings", [] {
        const std::string spelling = *test_gen::protocol_toml_spelling();
        const auto parsed = parse_protocol_toml(spelling);
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parse_protocol_toml(toml_name(*parsed)) == *parsed);
        RC_ASSERT(*parse_protocol_json(json_name(*parsed)) == *parsed);
    });
    rc::prop("JSON protocol spellings", [] {
        const std::string spelling = *test_gen::protocol_json_spelling();
        RC_ASSERT(json_name(*parse_protocol_json(spelling)) == spelling);
    });
    rc::prop("TLS versions", [](TlsVersion version) {
        RC_ASSERT(*parse_tls_version_json(json_name(version)) == version);
        RC_ASSERT(*parse_tls_version_toml(toml_name(version)) == version);
        const std::string toml = *test_gen::tls_version_toml_spelling();
        const auto parsed = parse_tls_version_toml(toml);
        RC_ASSERT(parsed.has_value());
        RC_ASSERT(*parse_tls_version_toml(toml_name(*parsed)) == *parsed);
        RC_ASSERT(json_name(*parse_tls_version_json(*test_gen::tls_version_json_spelling())).size() == 5);
    });
    rc::prop("cipher suites", [](TlsCipherSuite suite) {
        RC_ASSERT(*parse_cipher_suite_json(json_name(suite)) == suite);
        RC_ASSERT(*parse_cipher_suite_toml(toml_name(suite)) == suite);
        const std::string toml = *test_gen::cipher_suite_toml_spelling();
        RC_ASSERT(toml_name(*parse_cipher_suite_toml(toml)) == toml);
        const std::string json = *test_gen::cipher_suite_json_spelling();
        RC_ASSERT(json_name(*parse_cipher_suite_json(json)) == json);
    });
}

TEST_CASE("no input makes a parser throw, and whatever parses prints to a fixed point", "[prop][robustness]") {
    rc::prop("address-like and arbitrary text", [] {
        const std::string text = *test_gen::address_like_text();
        const auto address = IpAddress::parse(text);
        if (address) check_fixed_point(text, &IpAddress::parse);
        else RC_ASSERT(address.error().code == "ip-address.invalid");
        const auto socket = SocketAddr::parse(text);
        if (socket) check_fixed_point(text, &SocketAddr::parse);
        else RC_ASSERT(socket.error().code.rfind("bind.", 0) == 0);
        const auto entry = IpMask::parse(text);
        if (entry) check_fixed_point(text, &IpMask::parse);
        else RC_ASSERT(entry.error().code.rfind("ip-mask.", 0) == 0);
        const auto duration = Duration::parse(text);
        if (duration) check_fixed_point(text, &Duration::parse);
        else RC_ASSERT(duration.error().code.rfind("duration.", 0) == 0);
        RC_ASSERT(parse_protocol_toml(text) || parse_protocol_toml(text).error().code == "protocol.unknown");
        RC_ASSERT(parse_cipher_suite_json(text) || parse_cipher_suite_json(text).error().code == "tls.unknown-cipher");
        RC_ASSERT(parse_tls_version_toml(text) || parse_tls_version_toml(text).error().code == "tls.unknown-version");
    });
    rc::prop("a valid spelling with one byte changed never throws", [] {
        std::string text = (*test_gen::socket_addr_spelling()).text;
        const auto at = static_cast<std::size_t>(*rc::gen::inRange<std::size_t>(0, text.size()));
        text[at] = *rc::gen::arbitrary<char>();
        const auto socket = SocketAddr::parse(text);
        if (socket) check_fixed_point(text, &SocketAddr::parse);
        else RC_ASSERT(!socket.error().message.empty());
    });
}

TEST_CASE("edit distance is a metric-like function", "[prop][suggest]") {
    rc::prop("zero exactly for case-insensitive equal words, symmetric, bounded by the longer length",
             [](const std::string& a, const std::string& b) {
                 RC_ASSERT(detail::edit_distance(a, a) == 0u);
                 RC_ASSERT(detail::edit_distance(a, b) == detail::edit_distance(b, a));
                 RC_ASSERT(detail::edit_distance(a, b) <= std::max(a.size(), b.size()));
                 const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
                 RC_ASSERT(detail::edit_distance(a, b) >= gap);
             });
}
