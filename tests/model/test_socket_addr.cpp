#include <berth/model/socket_addr.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <chrono>
#include <string>
#include <string_view>

using berth::IpAddress;
using berth::SocketAddr;

namespace {

std::string canonical(std::string_view text) {
    const auto parsed = SocketAddr::parse(text);
    return parsed ? parsed->to_string() : "error: " + parsed.error().code;
}

std::string code_of(std::string_view text) {
    const auto parsed = SocketAddr::parse(text);
    return parsed ? "accepted" : parsed.error().code;
}

berth::ValueError error_of(std::string_view text) { return SocketAddr::parse(text).error(); }

}  // namespace

TEST_CASE("the canonical forms of SPEC §2.1", "[socket-addr]") {
    CHECK(canonical("0.0.0.0:25") == "0.0.0.0:25");
    CHECK(canonical("[::]:25") == "[::]:25");
    CHECK(canonical("[2001:db8::2]:25") == "[2001:db8::2]:25");
    CHECK(canonical("127.0.0.1:8080") == "127.0.0.1:8080");
    CHECK(canonical("[2a02:6b8:0:1::1]:53") == "[2a02:6b8:0:1::1]:53");
}

TEST_CASE("non-canonical but valid spellings print canonically", "[socket-addr]") {
    CHECK(canonical("0.0.0.0:00025") == "0.0.0.0:25");
    CHECK(canonical("0.0.0.0:0000000000000000000000000025") == "0.0.0.0:25");  // any number of zeros
    CHECK(canonical("[2001:DB8:0:0:0:0:0:2]:25") == "[2001:db8::2]:25");
    CHECK(canonical("[0:0:0:0:0:0:0:0]:0") == "[::]:0");
    CHECK(canonical("[::FFFF:1.2.3.4]:25") == "[::ffff:1.2.3.4]:25");
    CHECK(canonical("[fe80::1%0]:25") == "[fe80::1]:25");                    // scope id 0 means none
    CHECK(canonical("[fe80::1%0002]:25") == "[fe80::1%2]:25");
}

TEST_CASE("ports 0..65535", "[socket-addr]") {
    CHECK(canonical("10.0.0.1:0") == "10.0.0.1:0");
    CHECK(canonical("10.0.0.1:65535") == "10.0.0.1:65535");
    CHECK(code_of("10.0.0.1:65536") == "bind.bad-port");
    CHECK(code_of("[::1]:65535") == "accepted");
    CHECK(code_of("[::1]:65536") == "bind.bad-port");
    CHECK(code_of("10.0.0.1:99999999999999999999999") == "bind.bad-port");
    CHECK(SocketAddr::parse("10.0.0.1:65535")->port() == 65535);
}

TEST_CASE("scope ids: numeric 0..4294967295, in brackets only", "[socket-addr]") {
    const auto parsed = SocketAddr::parse("[fe80::1%4294967295]:25");
    REQUIRE(parsed);
    CHECK(parsed->address().scope_id() == 4294967295u);
    CHECK(parsed->to_string() == "[fe80::1%4294967295]:25");
    CHECK(code_of("[fe80::1%4294967296]:25") == "bind.invalid");
    CHECK(code_of("[fe80::1%]:25") == "bind.invalid");
    CHECK(code_of("[fe80::1%eth0]:25") == "bind.named-scope");
    CHECK(code_of("fe80::1%eth0:25") == "bind.named-scope");
    CHECK(code_of("fe80::1%2:25") == "bind.ipv6-needs-brackets");
    CHECK(code_of("[1.2.3.4%2]:25") == "bind.invalid");
}

TEST_CASE("the parts of an address", "[socket-addr]") {
    const auto parsed = SocketAddr::parse("[2001:db8::2]:587");
    REQUIRE(parsed);
    CHECK(parsed->port() == 587);
    CHECK(parsed->address().is_v6());
    CHECK(parsed->address().to_string() == "2001:db8::2");
    const SocketAddr built(IpAddress::v4({192, 0, 2, 1}), 465);
    CHECK(built.to_string() == "192.0.2.1:465");
    CHECK(built == *SocketAddr::parse("192.0.2.1:465"));
    CHECK(built != *SocketAddr::parse("192.0.2.1:466"));
    CHECK(*SocketAddr::parse("192.0.2.1:466") < *SocketAddr::parse("192.0.2.2:1"));  // address first, then port
    CHECK(*SocketAddr::parse("255.255.255.255:65535") < *SocketAddr::parse("[::]:0"));
}

TEST_CASE("SocketAddr: every error code, with its exact string", "[socket-addr][errors]") {
    CHECK(code_of("2001:db8::2") == "bind.missing-port");
    CHECK(code_of("10.0.0.1") == "bind.missing-port");
    CHECK(code_of("[::1]") == "bind.missing-port");
    CHECK(code_of("::") == "bind.missing-port");
    CHECK(code_of("2001:db8::2:25") == "bind.ipv6-needs-brackets");
    CHECK(code_of("::1:25") == "bind.ipv6-needs-brackets");
    CHECK(code_of("10.0.0.1:") == "bind.bad-port");
    CHECK(code_of("10.0.0.1:-1") == "bind.bad-port");
    CHECK(code_of("10.0.0.1:+25") == "bind.bad-port");
    CHECK(code_of("10.0.0.1:smtp") == "bind.bad-port");
    CHECK(code_of("[::1]:") == "bind.bad-port");
    CHECK(code_of("localhost:25") == "bind.host-name");
    CHECK(code_of("mail.example.org:25") == "bind.host-name");
    CHECK(code_of("[localhost]:25") == "bind.host-name");
    CHECK(code_of("localhost") == "bind.host-name");
    CHECK(code_of("010.0.0.1:25") == "bind.leading-zero");
    CHECK(code_of("10.0.0.01:25") == "bind.leading-zero");
    CHECK(code_of("[fe80::1%eth0]:25") == "bind.named-scope");
    CHECK(code_of(" 0.0.0.0:25") == "bind.whitespace");
    CHECK(code_of("0.0.0.0:25 ") == "bind.whitespace");
    CHECK(code_of("0.0.0.0: 25") == "bind.whitespace");
    CHECK(code_of("[::]:25\n") == "bind.whitespace");
    CHECK(code_of("*:25") == "bind.wildcard");
    CHECK(code_of("*") == "bind.wildcard");
    CHECK(code_of("") == "bind.invalid");
    CHECK(code_of("25") == "bind.invalid");
    CHECK(code_of(":25") == "bind.invalid");
    CHECK(code_of("256.0.0.1:25") == "bind.invalid");
    CHECK(code_of("1.2.3:25") == "bind.invalid");
    CHECK(code_of("[1::2::3]:25") == "bind.invalid");
    CHECK(code_of("[1.2.3.4]:25") == "bind.invalid");
    CHECK(code_of("[::1]x") == "bind.invalid");
    CHECK(code_of("[::1:25") == "bind.invalid");
    CHECK(code_of("::1]:25") == "bind.invalid");
    CHECK(code_of("1:2:3:4:5:6:7:8:9:25") == "bind.invalid");
}

TEST_CASE("an IPv6 address without brackets or port shows the fix literally", "[socket-addr][errors]") {
    const auto error = error_of("2001:db8::2");
    CHECK(error.code == "bind.missing-port");
    CHECK_THAT(error.hint, Catch::Matchers::ContainsSubstring("[2001:db8::2]:PORT"));
    CHECK_THAT(error.message, Catch::Matchers::ContainsSubstring("[2001:db8::2]:25"));  // SPEC §2.1: the message shows the fix
    CHECK_THAT(error_of("2001:DB8:0::2").hint, Catch::Matchers::ContainsSubstring("[2001:db8::2]:PORT"));
    CHECK_THAT(error_of("::").hint, Catch::Matchers::ContainsSubstring("[::]:PORT"));
}

TEST_CASE("an IPv4 address without port shows the fix", "[socket-addr][errors]") {
    const auto error = error_of("10.0.0.1");
    CHECK(error.code == "bind.missing-port");
    CHECK_THAT(error.hint, Catch::Matchers::ContainsSubstring("10.0.0.1:PORT"));
}

TEST_CASE("an ambiguous unbracketed address still says to bracket", "[socket-addr][errors]") {
    const auto error = error_of("2001:db8::2:25");
    CHECK(error.code == "bind.ipv6-needs-brackets");
    CHECK_THAT(error.message, Catch::Matchers::ContainsSubstring("bracket"));
    CHECK_THAT(error.hint, Catch::Matchers::ContainsSubstring("[2001:db8::2]:25"));
    CHECK_THAT(error.hint, Catch::Matchers::ContainsSubstring("[2001:db8::2:25]:PORT"));
}

TEST_CASE("a host name is refused with a hint to use an IP address", "[socket-addr][errors]") {
    const auto local = error_of("localhost:25");
    CHECK_THAT(local.hint, Catch::Matchers::ContainsSubstring("IP address"));
    CHECK_THAT(local.hint, Catch::Matchers::ContainsSubstring("127.0.0.1:25"));
    CHECK_THAT(local.hint, Catch::Matchers::ContainsSubstring("[::1]:25"));
    const auto named = error_of("mail.example.org:25");
    CHECK_THAT(named.hint, Catch::Matchers::ContainsSubstring("IP address"));
    CHECK_THAT(named.message, Catch::Matchers::ContainsSubstring("mail.example.org"));
}

TEST_CASE("the other hints show the corrected address", "[socket-addr][errors]") {
    CHECK(error_of("010.0.0.1:25").hint == "write `10.0.0.1:25` if the numbers are decimal");
    CHECK(error_of(" 0.0.0.0:25").hint == "write `0.0.0.0:25`");
    CHECK(error_of("10.0.0.1:+25").hint == "write `10.0.0.1:25`");
    CHECK_THAT(error_of("*:25").hint, Catch::Matchers::ContainsSubstring("[::]:25"));
    CHECK_THAT(error_of("*:25").hint, Catch::Matchers::ContainsSubstring("0.0.0.0:25"));
    CHECK(error_of("[1.2.3.4]:25").hint == "write `1.2.3.4:25`");
    CHECK_THAT(error_of("[fe80::1%eth0]:25").hint, Catch::Matchers::ContainsSubstring("[fe80::1%INDEX]:25"));
    CHECK_THAT(error_of("10.0.0.1:65536").message, Catch::Matchers::ContainsSubstring("0..65535"));
    CHECK_THAT(error_of("10.0.0.1:-1").message, Catch::Matchers::ContainsSubstring("sign"));
    CHECK_THAT(error_of("10.0.0.1:").message, Catch::Matchers::ContainsSubstring("no port"));
    CHECK_THAT(error_of("25").hint, Catch::Matchers::ContainsSubstring("[::]:25"));
}

TEST_CASE("SocketAddr: any bytes give an error, never an exception", "[socket-addr][robustness]") {
    for (std::string_view text :
         {std::string_view("\0", 1), std::string_view("0.0.0.0:25\0", 11), std::string_view("[::1\0]:25", 9),
          std::string_view("\xff\xfe"), std::string_view("[\xc3\xa9]:25"), std::string_view("["), std::string_view("]"),
          std::string_view("[]:"), std::string_view("[%]:1"), std::string_view(":"), std::string_view("::::"),
          std::string_view("%"), std::string_view("1.2.3.4:%")}) {
        const auto parsed = SocketAddr::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code.rfind("bind.", 0) == 0);
        CHECK_FALSE(parsed.error().message.empty());
    }
}

TEST_CASE("SocketAddr: a 10 MB input is rejected in linear time", "[socket-addr][robustness]") {
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& text :
         {std::string(10'000'000, ':'), "[" + std::string(10'000'000, ':'), "0.0.0.0:" + std::string(10'000'000, '9'),
          "[::1%" + std::string(10'000'000, '1') + "]:25", std::string(10'000'000, ' '),
          "[::]:" + std::string(10'000'000, '0') + "1", std::string(10'000'000, 'a') + ":25"}) {
        const auto parsed = SocketAddr::parse(text);
        if (parsed) {
            CHECK(parsed->to_string() == "[::]:1");  // ten million leading zeros are still port 1
        } else {
            CHECK(parsed.error().message.size() < 600);
            CHECK(parsed.error().hint.size() < 600);
        }
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
