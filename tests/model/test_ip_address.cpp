#include <berth/model/ip_address.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

using berth::IpAddress;

namespace {

std::string canonical(std::string_view text) {
    const auto parsed = IpAddress::parse(text);
    return parsed ? parsed->to_string() : "error: " + parsed.error().code;
}

bool accepted(std::string_view text) { return IpAddress::parse(text).has_value(); }

IpAddress v6_groups(std::array<std::uint16_t, 8> groups, std::uint32_t scope = 0) {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
        bytes[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
    }
    return IpAddress::v6(bytes, scope);
}

}  // namespace

TEST_CASE("IPv4: four decimal octets 0..255", "[ip]") {
    CHECK(canonical("0.0.0.0") == "0.0.0.0");
    CHECK(canonical("255.255.255.255") == "255.255.255.255");
    CHECK(canonical("192.0.2.1") == "192.0.2.1");
    CHECK(canonical("0.1.10.100") == "0.1.10.100");
    const auto parsed = IpAddress::parse("192.0.2.1");
    REQUIRE(parsed);
    CHECK(parsed->is_v4());
    CHECK_FALSE(parsed->is_v6());
    CHECK(parsed->v4_bytes() == std::array<std::uint8_t, 4>{192, 0, 2, 1});
}

TEST_CASE("IPv4: what Rust's Ipv4Addr rejects", "[ip]") {
    CHECK_FALSE(accepted("256.0.0.1"));    // octet 256
    CHECK_FALSE(accepted("1.2.3.256"));
    CHECK_FALSE(accepted("1.2.3.1000"));   // four digits
    CHECK_FALSE(accepted("010.0.0.1"));    // leading zero
    CHECK_FALSE(accepted("1.2.3.04"));
    CHECK_FALSE(accepted("1.2.3.00"));
    CHECK_FALSE(accepted("1.2.3"));        // three octets
    CHECK_FALSE(accepted("1.2.3.4.5"));    // five
    CHECK_FALSE(accepted("1.2.3.4."));     // trailing dot
    CHECK_FALSE(accepted(".1.2.3.4"));
    CHECK_FALSE(accepted("1..2.3"));
    CHECK_FALSE(accepted("1.2.3.-4"));
    CHECK_FALSE(accepted("1.2.3.+4"));
    CHECK_FALSE(accepted("0x7f.0.0.1"));
    CHECK_FALSE(accepted("127.1"));
    CHECK_FALSE(accepted(" 1.2.3.4"));
    CHECK_FALSE(accepted("1.2.3.4 "));
    CHECK_FALSE(accepted(""));
}

TEST_CASE("IPv6: groups, `::` and an embedded IPv4 part, as Rust's Ipv6Addr", "[ip]") {
    CHECK(canonical("0:0:0:0:0:0:0:0") == "::");
    CHECK(canonical("::") == "::");
    CHECK(canonical("::1") == "::1");
    CHECK(canonical("1::") == "1::");
    CHECK(canonical("1:2:3:4:5:6:7:8") == "1:2:3:4:5:6:7:8");
    CHECK(canonical("1:2:3:4:5:6:7::") == "1:2:3:4:5:6:7:0");   // `::` may stand for one group
    CHECK(canonical("::2:3:4:5:6:7:8") == "0:2:3:4:5:6:7:8");
    CHECK(canonical("2001:DB8:0000:0000:0000:0000:0000:0002") == "2001:db8::2");
    CHECK(canonical("2001:db8::0:2") == "2001:db8::2");
    CHECK(canonical("::192.0.2.33") == "::c000:221");            // IPv4-compatible: plain hex
    CHECK(canonical("::FFFF:192.0.2.33") == "::ffff:192.0.2.33");
    CHECK(canonical("64:ff9b::192.0.2.33") == "64:ff9b::c000:221");
    CHECK(canonical("2001:db8:122:c000:2:2100:192.0.2.33") == "2001:db8:122:c000:2:2100:c000:221");
    CHECK(canonical("1:2:3:4:5::1.2.3.4") == "1:2:3:4:5:0:102:304");
}

TEST_CASE("IPv6: what Rust's Ipv6Addr rejects", "[ip]") {
    CHECK_FALSE(accepted("1:2:3:4:5:6:7:8:9"));      // nine groups
    CHECK_FALSE(accepted("1:2:3:4:5:6:7"));          // seven groups and no `::`
    CHECK_FALSE(accepted("1:2:3:4:5:6:7:8::"));      // eight groups and `::`
    CHECK_FALSE(accepted("::1:2:3:4:5:6:7:8"));
    CHECK_FALSE(accepted("1::2::3"));                // `::` twice
    CHECK_FALSE(accepted(":::"));
    CHECK_FALSE(accepted("1:::2"));
    CHECK_FALSE(accepted(":1::2"));                  // a single leading colon
    CHECK_FALSE(accepted("1::2:"));                  // a single trailing colon
    CHECK_FALSE(accepted("12345::"));                // five hex digits
    CHECK_FALSE(accepted("00000::"));
    CHECK_FALSE(accepted("g::"));
    CHECK_FALSE(accepted("1.2.3.4::"));              // IPv4 part before `::`
    CHECK_FALSE(accepted("1.2.3.4:1::"));
    CHECK_FALSE(accepted("1:2:3:4:5:6:7:1.2.3.4"));  // IPv4 part where only one group fits
    CHECK_FALSE(accepted("1:2:3:4:5:6::1.2.3.4"));
    CHECK_FALSE(accepted("::1.2.3"));
    CHECK_FALSE(accepted("::01.2.3.4"));
    CHECK_FALSE(accepted("::127.0.0.1:"));
    CHECK_FALSE(accepted("[::1]"));
    CHECK_FALSE(accepted("fe80::1%2"));              // no scope id here
    CHECK_FALSE(accepted("fe80::1%eth0"));
}

TEST_CASE("IPv6 prints as RFC 5952", "[ip]") {
    CHECK(v6_groups({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}).to_string() == "2001:db8::1:0:0:1");  // first of two equal runs
    CHECK(v6_groups({0x2001, 0xdb8, 0, 1, 0, 0, 0, 1}).to_string() == "2001:db8:0:1::1");    // the longest run
    CHECK(v6_groups({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}).to_string() == "2001:db8:0:1:1:1:1:1");  // one zero: kept
    CHECK(v6_groups({0, 0, 0, 0, 0, 0, 0, 0}).to_string() == "::");
    CHECK(v6_groups({0, 0, 0, 0, 0, 0, 0, 1}).to_string() == "::1");
    CHECK(v6_groups({1, 0, 0, 0, 0, 0, 0, 0}).to_string() == "1::");
    CHECK(v6_groups({0, 1, 0, 0, 0, 0, 0, 0}).to_string() == "0:1::");
    CHECK(v6_groups({0xABCD, 0x00ef, 0, 0, 0, 0, 0, 0x0a}).to_string() == "abcd:ef::a");
    CHECK(v6_groups({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304}).to_string() == "::ffff:1.2.3.4");
    CHECK(v6_groups({0, 0, 0, 0, 0, 0xffff, 0, 0}).to_string() == "::ffff:0.0.0.0");
    CHECK(v6_groups({0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304}).to_string() == "::fffe:102:304");
    CHECK(v6_groups({0xfe80, 0, 0, 0, 0, 0, 0, 1}, 2).to_string() == "fe80::1%2");
    CHECK(v6_groups({0xfe80, 0, 0, 0, 0, 0, 0, 1}, 4294967295u).to_string() == "fe80::1%4294967295");
}

TEST_CASE("IPv4-mapped addresses and nothing else map to IPv4", "[ip]") {
    const auto mapped = IpAddress::parse("::ffff:10.1.2.3");
    REQUIRE(mapped);
    REQUIRE(mapped->mapped_v4().has_value());
    CHECK(mapped->mapped_v4()->to_string() == "10.1.2.3");
    CHECK_FALSE(IpAddress::parse("::1")->mapped_v4().has_value());           // IPv4-compatible
    CHECK_FALSE(IpAddress::parse("::10.1.2.3")->mapped_v4().has_value());
    CHECK_FALSE(IpAddress::parse("10.1.2.3")->mapped_v4().has_value());      // already IPv4
    CHECK_FALSE(IpAddress::parse("::fffe:10.1.2.3")->mapped_v4().has_value());
    CHECK_FALSE(IpAddress::parse("1::ffff:10.1.2.3")->mapped_v4().has_value());
}

TEST_CASE("v6_bytes of an IPv4 address is its mapped form", "[ip]") {
    const auto v4 = IpAddress::v4({10, 1, 2, 3});
    CHECK(v4.v6_bytes() == IpAddress::parse("::ffff:10.1.2.3")->v6_bytes());
    CHECK(IpAddress::parse("::1")->v4_bytes() == std::array<std::uint8_t, 4>{});
}

TEST_CASE("the unspecified addresses", "[ip]") {
    CHECK(IpAddress::parse("0.0.0.0")->is_unspecified());
    CHECK(IpAddress::parse("::")->is_unspecified());
    CHECK_FALSE(IpAddress::parse("0.0.0.1")->is_unspecified());
    CHECK_FALSE(IpAddress::parse("::1")->is_unspecified());
    CHECK_FALSE(IpAddress::parse("::ffff:0.0.0.0")->is_unspecified());
}

TEST_CASE("the scope id is kept, compared and printed", "[ip]") {
    const auto with_scope = IpAddress::v6(IpAddress::parse("fe80::1")->v6_bytes(), 7);
    CHECK(with_scope.scope_id() == 7);
    CHECK(with_scope != *IpAddress::parse("fe80::1"));
    CHECK(IpAddress::parse("fe80::1")->scope_id() == 0);
    CHECK(IpAddress::v4({1, 2, 3, 4}).scope_id() == 0);
}

TEST_CASE("ordering: IPv4 before IPv6, then by bytes, then scope", "[ip]") {
    CHECK(*IpAddress::parse("255.255.255.255") < *IpAddress::parse("::"));
    CHECK(*IpAddress::parse("10.0.0.1") < *IpAddress::parse("10.0.0.2"));
    CHECK(*IpAddress::parse("::1") < *IpAddress::parse("::2"));
    CHECK(IpAddress::v6(IpAddress::parse("::1")->v6_bytes(), 1) < IpAddress::v6(IpAddress::parse("::1")->v6_bytes(), 2));
    CHECK(*IpAddress::parse("2001:db8::2") == *IpAddress::parse("2001:DB8:0::0:2"));
    // IPv4 and its mapped form are different addresses (matching treats them alike, equality does not).
    CHECK(*IpAddress::parse("10.0.0.1") != *IpAddress::parse("::ffff:10.0.0.1"));
}

TEST_CASE("errors say what is wrong and show the fix", "[ip][errors]") {
    const auto error = [](std::string_view text) { return IpAddress::parse(text).error(); };
    CHECK(error("010.0.0.1").code == "ip-address.invalid");
    CHECK_THAT(error("010.0.0.1").message, Catch::Matchers::ContainsSubstring("leading zero"));
    CHECK(error("010.0.0.1").hint == "write `10.0.0.1`");
    CHECK_THAT(error("256.1.1.1").message, Catch::Matchers::ContainsSubstring("greater than 255"));
    CHECK_THAT(error("1.2.3.4.").message, Catch::Matchers::ContainsSubstring("four decimal numbers"));
    CHECK(error("localhost").hint == "use `127.0.0.1` or `::1`");
    CHECK_THAT(error("mail.example.org").message, Catch::Matchers::ContainsSubstring("host name"));
    CHECK(error("[::1]").hint == "write `::1`");
    CHECK(error("fe80::1%2").hint == "write `fe80::1`");
    CHECK(error(" ::1").hint == "write `::1`");
    CHECK_THAT(error("1::2::3").message, Catch::Matchers::ContainsSubstring("only once"));
    CHECK_THAT(error("12345::").message, Catch::Matchers::ContainsSubstring("more than four"));
    CHECK_THAT(error("1:2:3:4:5:6:7:8:9").message, Catch::Matchers::ContainsSubstring("9 groups"));
    CHECK_THAT(error("1:2:3:4:5:6:7").message, Catch::Matchers::ContainsSubstring("7 groups"));
    CHECK_THAT(error("::g").message, Catch::Matchers::ContainsSubstring("hexadecimal"));
    CHECK_THAT(error("1.2.3.4::").message, Catch::Matchers::ContainsSubstring("IPv4 part may only come last"));
    CHECK(error("").message == "the address is empty");
}

TEST_CASE("IpAddress: any bytes: no exception, no crash, a plain error", "[ip][robustness]") {
    for (std::string_view text : {std::string_view("\0", 1), std::string_view("1.2.3.4\0", 8), std::string_view("::\xff"),
                                  std::string_view("\xc3\xa9"), std::string_view("%"), std::string_view("/"),
                                  std::string_view("::%"), std::string_view("[")}) {
        const auto parsed = IpAddress::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "ip-address.invalid");
    }
}

TEST_CASE("IpAddress: a 10 MB input is rejected in linear time", "[ip][robustness]") {
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& text : {std::string(10'000'000, '1'), std::string(10'000'000, ':'),
                                    "1:" + std::string(10'000'000, '0'), std::string(10'000'000, '.'),
                                    std::string(10'000'000, 'a')}) {
        const auto parsed = IpAddress::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.size() < 400);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
