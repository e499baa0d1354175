#include <berth/model/ip_mask.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <chrono>
#include <string>
#include <string_view>

using berth::IpAddress;
using berth::IpMask;

namespace {

std::string canonical(std::string_view text) {
    const auto parsed = IpMask::parse(text);
    return parsed ? parsed->to_string() : "error: " + parsed.error().code;
}

std::string code_of(std::string_view text) {
    const auto parsed = IpMask::parse(text);
    return parsed ? "accepted" : parsed.error().code;
}

IpMask mask(std::string_view text) { return IpMask::parse(text).value(); }
IpAddress peer(std::string_view text) { return IpAddress::parse(text).value(); }

}  // namespace

TEST_CASE("an address alone is a full-length prefix", "[ip-mask]") {
    const auto single = mask("192.0.2.10");
    CHECK(single.prefix() == 32);
    CHECK(single.to_string() == "192.0.2.10");
    CHECK(mask("2001:db8::1").prefix() == 128);
    CHECK(mask("192.0.2.10/32") == single);
    CHECK(canonical("192.0.2.10/32") == "192.0.2.10");
    CHECK(canonical("2001:db8::1/128") == "2001:db8::1");
}

TEST_CASE("prefix boundaries: IPv4 8..32, IPv6 8..128", "[ip-mask]") {
    CHECK(canonical("10.0.0.0/8") == "10.0.0.0/8");
    CHECK(code_of("10.0.0.0/7") == "ip-mask.prefix-too-short");
    CHECK(code_of("10.0.0.0/0") == "ip-mask.prefix-too-short");
    CHECK(code_of("10.0.0.1/32") == "accepted");
    CHECK(code_of("10.0.0.1/33") == "ip-mask.prefix-too-long");
    CHECK(code_of("fd00::/8") == "accepted");
    CHECK(code_of("fd00::/7") == "ip-mask.prefix-too-short");
    CHECK(code_of("::/0") == "ip-mask.prefix-too-short");
    CHECK(code_of("::1/128") == "accepted");
    CHECK(code_of("::1/129") == "ip-mask.prefix-too-long");
    CHECK(code_of("::1/99999999999999999999999999") == "ip-mask.prefix-too-long");
}

TEST_CASE("0.0.0.0 is refused with any prefix; :: alone is a host", "[ip-mask]") {
    CHECK(code_of("0.0.0.0") == "ip-mask.unspecified-v4");
    CHECK(code_of("0.0.0.0/0") == "ip-mask.unspecified-v4");
    CHECK(code_of("0.0.0.0/8") == "ip-mask.unspecified-v4");
    CHECK(code_of("0.0.0.0/32") == "ip-mask.unspecified-v4");
    CHECK(code_of("0.0.0.0/33") == "ip-mask.unspecified-v4");
    CHECK(code_of("::/8") == "ip-mask.prefix-too-short");  // covers all of mapped IPv4: see below
    CHECK(code_of("::") == "accepted");
}

TEST_CASE("input is trimmed, the prefix is decimal digits", "[ip-mask]") {
    CHECK(canonical("  10.0.0.0/8\t") == "10.0.0.0/8");
    CHECK(canonical("\n2001:DB8::/32\r") == "2001:db8::/32");
    CHECK(canonical("10.0.0.0/008") == "10.0.0.0/8");
    CHECK(code_of("10.0.0.0 /8") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/ 8") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/+8") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/-8") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/8/8") == "ip-mask.invalid");
    CHECK(code_of("10.0.0.0/255.0.0.0") == "ip-mask.invalid");
    CHECK(code_of("/8") == "ip-mask.invalid");
    CHECK(code_of("") == "ip-mask.invalid");
    CHECK(code_of("   ") == "ip-mask.invalid");
    CHECK(code_of("010.0.0.0/8") == "ip-mask.invalid");
    CHECK(code_of("fe80::1%2") == "ip-mask.invalid");
    CHECK(code_of("[::1]") == "ip-mask.invalid");
    CHECK(code_of("localhost") == "ip-mask.invalid");
}

TEST_CASE("canonical print keeps host bits as written", "[ip-mask]") {
    CHECK(canonical("10.1.2.3/8") == "10.1.2.3/8");
    CHECK(canonical("2001:db8::1/64") == "2001:db8::1/64");
    CHECK(canonical("::ffff:10.0.0.0/104") == "::ffff:10.0.0.0/104");
    CHECK(mask("10.1.2.3/8").has_host_bits());
    CHECK_FALSE(mask("10.0.0.0/8").has_host_bits());
    CHECK(mask("10.0.0.128/24").has_host_bits());
    CHECK_FALSE(mask("10.0.0.128/25").has_host_bits());
    CHECK(mask("10.0.0.1/31").has_host_bits());
    CHECK_FALSE(mask("10.0.0.1").has_host_bits());
    CHECK(mask("2001:db8::1/64").has_host_bits());
    CHECK_FALSE(mask("2001:db8::/32").has_host_bits());
    CHECK_FALSE(mask("2001:db8::1").has_host_bits());
}

TEST_CASE("equality compares address and prefix", "[ip-mask]") {
    CHECK(mask("10.0.0.0/8") == mask(" 10.0.0.0/08 "));
    CHECK(mask("10.0.0.0/8") != mask("10.0.0.0/9"));
    CHECK(mask("10.0.0.0/8") != mask("10.1.0.0/8"));  // same network, different text: not equal
    CHECK(mask("10.0.0.0/8") < mask("10.0.0.0/9"));
    CHECK(mask("10.0.0.0/8").address() == peer("10.0.0.0"));
    CHECK(mask("10.0.0.0/8").prefix() == 8);
}

TEST_CASE("an IPv4 entry matches IPv4 peers and their mapped IPv6 form", "[ip-mask][matches]") {
    const auto network = mask("10.0.0.0/8");
    CHECK(network.matches(peer("10.0.0.0")));
    CHECK(network.matches(peer("10.255.255.255")));
    CHECK_FALSE(network.matches(peer("11.0.0.0")));
    CHECK_FALSE(network.matches(peer("9.255.255.255")));
    CHECK(network.matches(peer("::ffff:10.1.2.3")));
    CHECK_FALSE(network.matches(peer("::ffff:11.1.2.3")));
    CHECK_FALSE(network.matches(peer("::10.1.2.3")));       // IPv4-compatible: not the same host
    CHECK_FALSE(network.matches(peer("2001:db8::1")));

    const auto host = mask("0.0.0.1/32");
    CHECK(host.matches(peer("0.0.0.1")));
    CHECK_FALSE(host.matches(peer("::1")));                 // the IPv6 loopback is not 0.0.0.1 (SPEC §9)
    CHECK(mask("192.0.2.7").matches(peer("192.0.2.7")));
    CHECK_FALSE(mask("192.0.2.7").matches(peer("192.0.2.6")));
}

TEST_CASE("an IPv6 entry matches IPv6 peers and IPv4 peers through their mapped form", "[ip-mask][matches]") {
    const auto network = mask("2001:db8::/32");
    CHECK(network.matches(peer("2001:db8::1")));
    CHECK(network.matches(peer("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
    CHECK_FALSE(network.matches(peer("2001:db9::1")));
    CHECK_FALSE(network.matches(peer("10.0.0.1")));

    const auto mapped = mask("::ffff:10.0.0.0/104");
    CHECK(mapped.matches(peer("10.1.2.3")));
    CHECK(mapped.matches(peer("::ffff:10.1.2.3")));
    CHECK_FALSE(mapped.matches(peer("11.1.2.3")));
    CHECK_FALSE(mapped.matches(peer("::10.1.2.3")));

    CHECK(mask("::1").matches(peer("::1")));
    CHECK_FALSE(mask("::1").matches(peer("0.0.0.1")));
    CHECK(mask("fe80::/10").matches(IpAddress::v6(peer("fe80::1").v6_bytes(), 3)));  // scope ignored
}

TEST_CASE("prefixes that end inside a byte", "[ip-mask][matches]") {
    const auto network = mask("192.168.0.0/17");
    CHECK(network.matches(peer("192.168.127.255")));
    CHECK_FALSE(network.matches(peer("192.168.128.0")));
    const auto odd = mask("2001:db8::/33");
    CHECK(odd.matches(peer("2001:db8:7fff::")));
    CHECK_FALSE(odd.matches(peer("2001:db8:8000::")));
}

TEST_CASE("the messages explain the danger and the hints the fix", "[ip-mask][errors]") {
    const auto short_v4 = IpMask::parse("10.0.0.0/7").error();
    CHECK_THAT(short_v4.message, Catch::Matchers::ContainsSubstring("forge their address"));
    CHECK_THAT(short_v4.message, Catch::Matchers::ContainsSubstring("2^25 addresses"));
    const auto short_v6 = IpMask::parse("::/0").error();
    CHECK_THAT(short_v6.message, Catch::Matchers::ContainsSubstring("forge their address"));
    CHECK_THAT(short_v6.hint, Catch::Matchers::ContainsSubstring("fd00::/8"));
    const auto unspecified = IpMask::parse("0.0.0.0/0").error();
    CHECK_THAT(unspecified.message, Catch::Matchers::ContainsSubstring("forge"));
    CHECK(IpMask::parse("10.0.0.1/33").error().hint == "write `10.0.0.1` for this one address");
    CHECK(IpMask::parse("10.0.0.0/255.0.0.0").error().hint == "write the netmask as a prefix length: `10.0.0.0/8`");
    CHECK(IpMask::parse("10.0.0.0 / 8").error().hint == "write `10.0.0.0/8`");
    CHECK(IpMask::parse("010.0.0.0/8").error().hint == "write `10.0.0.0/8`");
    CHECK(IpMask::parse("fe80::1%2/64").error().hint == "write `fe80::1/64`");
    CHECK_THAT(IpMask::parse("proxy.example.org").error().hint, Catch::Matchers::ContainsSubstring("IP addresses"));
}

TEST_CASE("any bytes and 10 MB inputs: an error, at once", "[ip-mask][robustness]") {
    for (std::string_view text : {std::string_view("\0", 1), std::string_view("10.0.0.0/8\0", 11),
                                  std::string_view("\xff/8"), std::string_view("/"), std::string_view("//"),
                                  std::string_view("10.0.0.0/\xc3\xa9")}) {
        const auto parsed = IpMask::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "ip-mask.invalid");
    }
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& text : {"10.0.0.0/" + std::string(10'000'000, '9'), std::string(10'000'000, ' '),
                                    " 1" + std::string(10'000'000, ' ') + "1 ", std::string(10'000'000, '/')}) {
        const auto parsed = IpMask::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.size() < 600);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("IPv6 masks may not trust the whole IPv4 Internet through the mapped form", "[ip_mask]") {
    for (const char* text : {"::/8", "::/80", "::ffff:0.0.0.0/96", "::ffff:0:0/100", "::ffff:10.0.0.0/103"}) {
        INFO(text);
        const auto m = berth::IpMask::parse(text);
        REQUIRE_FALSE(m);
        CHECK(m.error().code == "ip-mask.prefix-too-short");
    }
    for (const char* text : {"::ffff:10.0.0.0/104", "2001:db8::/32", "fd00::/8", "::1", "::ffff:192.0.2.1"}) {
        INFO(text);
        CHECK(berth::IpMask::parse(text));
    }
}
