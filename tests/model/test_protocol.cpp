#include <berth/model/protocol.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <set>
#include <string>
#include <string_view>

using berth::Protocol;

static_assert(berth::json_name(Protocol::manage_sieve) == "manageSieve");
static_assert(berth::toml_name(Protocol::manage_sieve) == "managesieve");
static_assert(berth::all_protocols().size() == 6);

TEST_CASE("all_protocols lists every enumerator once, in declaration order", "[protocol]") {
    const auto all = berth::all_protocols();
    REQUIRE(all.size() == 6);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(static_cast<std::size_t>(all[i]) == i);
}

TEST_CASE("the names of SPEC §2.4", "[protocol]") {
    CHECK(berth::json_name(Protocol::smtp) == "smtp");
    CHECK(berth::json_name(Protocol::lmtp) == "lmtp");
    CHECK(berth::json_name(Protocol::imap) == "imap");
    CHECK(berth::json_name(Protocol::pop3) == "pop3");
    CHECK(berth::json_name(Protocol::manage_sieve) == "manageSieve");
    CHECK(berth::json_name(Protocol::http) == "http");
    CHECK(berth::toml_name(Protocol::manage_sieve) == "managesieve");
    CHECK(berth::toml_name(Protocol::http) == "http");
    CHECK(berth::json_name(static_cast<Protocol>(200)).empty());  // outside the enum: empty, not UB
    CHECK(berth::toml_name(static_cast<Protocol>(200)).empty());
}

TEST_CASE("each name parses back to its protocol on its surface", "[protocol]") {
    for (Protocol p : berth::all_protocols()) {
        CHECK(berth::parse_protocol_json(berth::json_name(p)).value() == p);
        CHECK(berth::parse_protocol_toml(berth::toml_name(p)).value() == p);
    }
}

TEST_CASE("TOML is case-insensitive and reads https as http", "[protocol]") {
    CHECK(berth::parse_protocol_toml("SMTP").value() == Protocol::smtp);
    CHECK(berth::parse_protocol_toml("Imap").value() == Protocol::imap);
    CHECK(berth::parse_protocol_toml("POP3").value() == Protocol::pop3);
    CHECK(berth::parse_protocol_toml("ManageSieve").value() == Protocol::manage_sieve);
    CHECK(berth::parse_protocol_toml("manageSieve").value() == Protocol::manage_sieve);
    CHECK(berth::parse_protocol_toml("https").value() == Protocol::http);
    CHECK(berth::parse_protocol_toml("HTTPS").value() == Protocol::http);
}

TEST_CASE("TOML rejects everything else", "[protocol][errors]") {
    for (std::string_view text : {"", "smtps", " smtp", "smtp ", "manage sieve", "manage-sieve", "jmap", "submission",
                                  "http2", "sm\0tp"}) {
        const auto parsed = berth::parse_protocol_toml(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "protocol.unknown");
    }
}

TEST_CASE("JSON is exact and case-sensitive", "[protocol][errors]") {
    for (std::string_view text : {"SMTP", "Smtp", "managesieve", "ManageSieve", "https", "HTTP", "", "smtp "}) {
        const auto parsed = berth::parse_protocol_json(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "protocol.unknown");
    }
}

TEST_CASE("did-you-mean on each surface suggests that surface's spelling", "[protocol][errors]") {
    CHECK(berth::parse_protocol_json("managesieve").error().hint == "did you mean `manageSieve`?");
    CHECK(berth::parse_protocol_json("MANAGESIEVE").error().hint == "did you mean `manageSieve`?");
    CHECK(berth::parse_protocol_json("SMTP").error().hint == "did you mean `smtp`?");
    CHECK(berth::parse_protocol_json("https").error().hint == "did you mean `http`?");
    CHECK(berth::parse_protocol_json("manageseive").error().hint == "did you mean `manageSieve`?");
    CHECK(berth::parse_protocol_toml("smpt").error().hint == "did you mean `smtp`?");
    CHECK(berth::parse_protocol_toml("manage-sieve").error().hint == "did you mean `managesieve`?");
    CHECK(berth::parse_protocol_toml("imaps").error().hint == "did you mean `imap`?");
    CHECK(berth::parse_protocol_toml("httpss").error().hint == "did you mean `https`?");
}

TEST_CASE("with nothing close, the hint lists the names", "[protocol][errors]") {
    CHECK(berth::parse_protocol_toml("gopher").error().hint ==
          "use one of: smtp, lmtp, imap, pop3, managesieve, http");
    CHECK(berth::parse_protocol_json("gopher").error().hint ==
          "use one of: smtp, lmtp, imap, pop3, manageSieve, http");
    CHECK_THAT(berth::parse_protocol_toml("gopher").error().message, Catch::Matchers::ContainsSubstring("`gopher`"));
}

TEST_CASE("Protocol: huge and binary input", "[protocol][robustness]") {
    const std::string huge(10'000'000, 's');
    CHECK(berth::parse_protocol_toml(huge).error().code == "protocol.unknown");
    CHECK(berth::parse_protocol_json(huge).error().message.size() < 200);
    CHECK_FALSE(berth::parse_protocol_toml(std::string_view("smtp\0", 5)));
    CHECK_FALSE(berth::parse_protocol_json("\xff\xfe"));
}
