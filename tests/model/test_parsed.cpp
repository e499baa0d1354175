#include <berth/model/parsed.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

using berth::Parsed;
using berth::ValueError;

TEST_CASE("Parsed holds a value", "[parsed]") {
    Parsed<std::string> parsed = std::string("hello");
    REQUIRE(parsed.has_value());
    REQUIRE(static_cast<bool>(parsed));
    CHECK(parsed.value() == "hello");
    CHECK(*parsed == "hello");
    CHECK(parsed->size() == 5);
    parsed->append("!");
    CHECK(parsed.value() == "hello!");
    CHECK_THROWS_AS(parsed.error(), std::logic_error);
}

TEST_CASE("Parsed holds an error", "[parsed]") {
    Parsed<int> parsed = ValueError{"bind.bad-port", "port `x` is not a number", "use 0..65535"};
    REQUIRE_FALSE(parsed.has_value());
    REQUIRE_FALSE(static_cast<bool>(parsed));
    CHECK(parsed.error().code == "bind.bad-port");
    CHECK(parsed.error().message == "port `x` is not a number");
    CHECK(parsed.error().hint == "use 0..65535");
}

TEST_CASE("asking an error for its value throws std::logic_error naming the code, in every build mode",
          "[parsed]") {
    const Parsed<int> parsed = ValueError{"duration.invalid", "m", "h"};
    CHECK_THROWS_AS(parsed.value(), std::logic_error);
    CHECK_THROWS_AS(*parsed, std::logic_error);
    CHECK_THROWS_AS(parsed.operator->(), std::logic_error);
    CHECK_THROWS_WITH(parsed.value(), Catch::Matchers::ContainsSubstring("duration.invalid"));
    Parsed<int> movable = ValueError{"duration.invalid", "m", "h"};
    CHECK_THROWS_AS(std::move(movable).value(), std::logic_error);
}

TEST_CASE("Parsed moves a move-only value out", "[parsed]") {
    Parsed<std::unique_ptr<int>> parsed = std::make_unique<int>(7);
    std::unique_ptr<int> taken = std::move(parsed).value();
    REQUIRE(taken != nullptr);
    CHECK(*taken == 7);
}

TEST_CASE("an error can be moved out", "[parsed]") {
    Parsed<int> parsed = ValueError{"ip-mask.invalid", "message", ""};
    ValueError error = std::move(parsed).error();
    CHECK(error.code == "ip-mask.invalid");
    CHECK(error.hint.empty());
}

TEST_CASE("ValueError compares all three fields", "[parsed]") {
    const ValueError a{"c", "m", "h"};
    CHECK(a == ValueError{"c", "m", "h"});
    CHECK_FALSE(a == ValueError{"c", "m", "other"});
    CHECK_FALSE(a == ValueError{"c", "other", "h"});
    CHECK_FALSE(a == ValueError{"other", "m", "h"});
}

TEST_CASE("the ASCII classes ignore locale and non-ASCII bytes", "[parsed][text]") {
    using namespace berth::detail;
    CHECK(is_ascii_digit('0'));
    CHECK(is_ascii_digit('9'));
    CHECK_FALSE(is_ascii_digit('a'));
    CHECK_FALSE(is_ascii_digit(static_cast<char>(0xb2)));  // superscript two in Latin-1
    CHECK(is_ascii_hex_digit('F'));
    CHECK_FALSE(is_ascii_hex_digit('g'));
    for (char c : std::string(" \t\n\v\f\r")) CHECK(is_ascii_space(c));
    CHECK_FALSE(is_ascii_space('\0'));
    CHECK_FALSE(is_ascii_space(static_cast<char>(0xa0)));  // no-break space in Latin-1
    CHECK(ascii_lower('Q') == 'q');
    CHECK(ascii_lower('@') == '@');
    CHECK(equal_ignoring_ascii_case("ManageSieve", "MANAGESIEVE"));
    CHECK_FALSE(equal_ignoring_ascii_case("smtp", "smtps"));
    CHECK(all_ascii_digits("0123"));
    CHECK_FALSE(all_ascii_digits(""));
    CHECK_FALSE(all_ascii_digits("12a"));
}

TEST_CASE("trimming and squeezing whitespace", "[parsed][text]") {
    using namespace berth::detail;
    CHECK(trim_ascii_space(" \t10.0.0.0/8\r\n") == "10.0.0.0/8");
    CHECK(trim_ascii_space("   ").empty());
    CHECK(without_ascii_space(" 1 s\t") == "1s");
    CHECK(contains_ascii_space("a b"));
    CHECK_FALSE(contains_ascii_space("ab"));
}

TEST_CASE("quote_text() escapes unprintable bytes and cuts long input", "[parsed][text]") {
    using berth::detail::quote_text;
    CHECK(quote_text("abc") == "`abc`");
    CHECK(quote_text(std::string("a\0b", 3)) == "`a\\x00b`");
    CHECK(quote_text("\xff\n") == "`\\xff\\x0a`");
    const std::string long_text(10'000'000, 'x');
    const std::string shown = quote_text(long_text);
    CHECK(shown.size() == 64 + 5);  // 64 bytes, "...", two backticks
    CHECK(shown.substr(shown.size() - 4) == "...`");
}
