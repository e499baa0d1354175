#include <berth/model/duration.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

using berth::Duration;

namespace {

std::uint64_t ms_of(std::string_view text) { return Duration::parse(text).value().milliseconds(); }

std::string code_of(std::string_view text) {
    const auto parsed = Duration::parse(text);
    return parsed ? "accepted" : parsed.error().code;
}

berth::ValueError error_of(std::string_view text) { return Duration::parse(text).error(); }

}  // namespace

static_assert(Duration::from_milliseconds(1500).milliseconds() == 1500, "from_milliseconds is constexpr");
static_assert(Duration::from_milliseconds(1) < Duration::from_milliseconds(2));

TEST_CASE("each unit, in any case", "[duration]") {
    CHECK(ms_of("7ms") == 7);
    CHECK(ms_of("7s") == 7'000);
    CHECK(ms_of("7m") == 420'000);
    CHECK(ms_of("7h") == 25'200'000);
    CHECK(ms_of("7d") == 604'800'000);
    CHECK(ms_of("7MS") == 7);
    CHECK(ms_of("7Ms") == 7);
    CHECK(ms_of("7mS") == 7);
    CHECK(ms_of("7S") == 7'000);
    CHECK(ms_of("7M") == 420'000);  // M is minutes, like m: units are case-insensitive
    CHECK(ms_of("7H") == 25'200'000);
    CHECK(ms_of("7D") == 604'800'000);
    CHECK(ms_of("0ms") == 0);
    CHECK(ms_of("0d") == 0);
    CHECK(ms_of("007s") == 7'000);
}

TEST_CASE("to_string picks the largest unit that divides exactly", "[duration]") {
    CHECK(Duration::from_milliseconds(0).to_string() == "0ms");
    CHECK(Duration::from_milliseconds(1).to_string() == "1ms");
    CHECK(Duration::from_milliseconds(1500).to_string() == "1500ms");
    CHECK(Duration::from_milliseconds(1000).to_string() == "1s");
    CHECK(Duration::from_milliseconds(90'000).to_string() == "90s");
    CHECK(Duration::from_milliseconds(60'000).to_string() == "1m");
    CHECK(Duration::from_milliseconds(5'400'000).to_string() == "90m");
    CHECK(Duration::from_milliseconds(3'600'000).to_string() == "1h");
    CHECK(Duration::from_milliseconds(86'400'000).to_string() == "1d");
    CHECK(Duration::from_milliseconds(90'000'000).to_string() == "25h");
    CHECK(Duration::from_milliseconds(18446744073709551615u).to_string() == "18446744073709551615ms");
}

TEST_CASE("the 64-bit millisecond boundary, for every unit", "[duration]") {
    CHECK(ms_of("18446744073709551615ms") == 18446744073709551615u);
    CHECK(code_of("18446744073709551616ms") == "duration.out-of-range");
    CHECK(ms_of("18446744073709551s") == 18446744073709551000u);
    CHECK(code_of("18446744073709552s") == "duration.out-of-range");
    CHECK(ms_of("307445734561825m") == 307445734561825u * 60'000);
    CHECK(code_of("307445734561826m") == "duration.out-of-range");
    CHECK(ms_of("5124095576030h") == 5124095576030u * 3'600'000);
    CHECK(code_of("5124095576031h") == "duration.out-of-range");
    CHECK(ms_of("213503982334d") == 213503982334u * 86'400'000);
    CHECK(code_of("213503982335d") == "duration.out-of-range");
    CHECK(code_of("99999999999999999999999999999999s") == "duration.out-of-range");
    CHECK(ms_of("0000000000000000000000000000001s") == 1000);  // leading zeros never overflow
}

TEST_CASE("Duration: every error code, with its exact string", "[duration][errors]") {
    CHECK(code_of("") == "duration.invalid");
    CHECK(code_of("500") == "duration.invalid");     // a bare number: the surfaces handle those
    CHECK(code_of("ms") == "duration.invalid");
    CHECK(code_of("1 s") == "duration.invalid");
    CHECK(code_of(" 1s") == "duration.invalid");
    CHECK(code_of("1s ") == "duration.invalid");
    CHECK(code_of("-1s") == "duration.invalid");
    CHECK(code_of("+1s") == "duration.invalid");
    CHECK(code_of("1m30") == "duration.invalid");
    CHECK(code_of("1s!") == "duration.invalid");
    CHECK(code_of("1,5s") == "duration.invalid");
    CHECK(code_of("1m30s") == "duration.compound");
    CHECK(code_of("1h1m1s1ms") == "duration.compound");
    CHECK(code_of("1h30min") == "duration.compound");
    CHECK(code_of("0x10s") == "duration.invalid");
    CHECK(code_of("1e3ms") == "duration.invalid");
    CHECK(code_of("1.5s") == "duration.fraction");
    CHECK(code_of(".5s") == "duration.fraction");
    CHECK(code_of("1.s") == "duration.fraction");
    CHECK(code_of("1.5") == "duration.fraction");
    CHECK(code_of("5w") == "duration.unknown-unit");
    CHECK(code_of("5sec") == "duration.unknown-unit");
    CHECK(code_of("5us") == "duration.unknown-unit");
    CHECK(code_of("5msx") == "duration.unknown-unit");
    CHECK(code_of("18446744073709551616ms") == "duration.out-of-range");
}

TEST_CASE("hints show the accepted spelling", "[duration][errors]") {
    CHECK(error_of("1m30s").hint == "write `90s`");
    CHECK(error_of("1h30m").hint == "write `90m`");
    CHECK(error_of("1h30min").hint == "write `90m`");
    CHECK(error_of("1w1d").hint == "write `8d`");
    CHECK(error_of("1.5s").hint == "write `1500ms`");
    CHECK(error_of("1.5m").hint == "write `90s`");
    CHECK(error_of("0.5d").hint == "write `12h`");
    CHECK(error_of("2.0s").hint == "write `2s`");
    CHECK(error_of("1.0005s").hint == "a duration is a whole number of milliseconds");
    CHECK(error_of("1 s").hint == "write `1s`");
    CHECK(error_of("+5S").hint == "write `5s`");
    CHECK_THAT(error_of("500").hint, Catch::Matchers::ContainsSubstring("`500ms`"));
    const auto unknown = error_of("5w");
    CHECK_THAT(unknown.hint, Catch::Matchers::ContainsSubstring("write `35d`"));
    for (std::string_view unit : {"ms", "s", "m", "h", "d"}) CHECK_THAT(unknown.hint, Catch::Matchers::ContainsSubstring(std::string(unit)));
    CHECK_THAT(error_of("5min").hint, Catch::Matchers::ContainsSubstring("write `5m`"));
    CHECK_THAT(error_of("5us").hint, Catch::Matchers::StartsWith("units are ms, s, m, h and d"));
    CHECK_THAT(error_of("18446744073709551616ms").message, Catch::Matchers::ContainsSubstring("18446744073709551615"));
    CHECK_THAT(error_of("1m1.5s").hint, Catch::Matchers::ContainsSubstring("one unit"));
}

TEST_CASE("Duration: any bytes give an error, never an exception", "[duration][robustness]") {
    for (std::string_view text : {std::string_view("\0", 1), std::string_view("1s\0", 3), std::string_view("1\xffs"),
                                  std::string_view("\xc3\xa9"), std::string_view("."), std::string_view("1."),
                                  std::string_view(".."), std::string_view("1..5s"), std::string_view("s1")}) {
        const auto parsed = Duration::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code.rfind("duration.", 0) == 0);
    }
}

TEST_CASE("Duration: a 10 MB input is rejected in linear time", "[duration][robustness]") {
    const auto start = std::chrono::steady_clock::now();
    std::string compound;
    for (int i = 0; i < 1'000'000; ++i) compound += "1m30s";
    for (const std::string& text : {std::string(10'000'000, '9') + "s", std::string(10'000'000, '1'),
                                    "1" + std::string(10'000'000, 'x'), "1." + std::string(10'000'000, '5') + "s",
                                    compound, std::string(10'000'000, ' ')}) {
        const auto parsed = Duration::parse(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.size() < 600);
        CHECK(parsed.error().hint.size() < 600);
    }
    CHECK(error_of(compound).code == "duration.compound");
    CHECK(error_of(compound).hint == "write the total in one unit, e.g. `90s` for `1m30s`");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
