// config/toml_safe.hpp: toml++ 3.3 and 3.4 refuse non-ASCII input cleanly (no undefined behaviour, which the
// sanitizer builds would report), and the patch leaves no macro of toml++'s changed in the including
// translation unit.
#include "berth/config/toml_safe.hpp"
#include "berth/config/load.hpp"
// A second include of toml++ after berth's is harmless: toml++ is already there, patched.
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h>
#endif

#include <cstdio>
#include <string>
#include <string_view>

#include "support/catch.hpp"

#define BERTH_TEST_TEXT_OF(...) #__VA_ARGS__
#define BERTH_TEST_TEXT(...) BERTH_TEST_TEXT_OF(__VA_ARGS__)

TEST_CASE("toml_safe.hpp leaves toml++'s macros as toml++ alone leaves them", "[toml]") {
    // BERTH_TOML_PRISTINE_MACROS: a program that includes toml++ alone and prints the same two texts.
    std::FILE* pipe = ::popen(BERTH_TOML_PRISTINE_MACROS, "r");
    REQUIRE(pipe != nullptr);
    std::string pristine;
    char chunk[256];
    while (std::fgets(chunk, sizeof chunk, pipe) != nullptr) pristine += chunk;
    REQUIRE(::pclose(pipe) == 0);
    CHECK(pristine == std::string(BERTH_TEST_TEXT(TOML_UNREACHABLE)) + "\n" +
                          BERTH_TEST_TEXT(TOML_ASSERT_ASSUME(condition)) + "\n");
}

TEST_CASE("toml_safe.hpp patches exactly the toml++ releases without the upstream fixes", "[toml]") {
    INFO("toml++ " << TOML_LIB_MAJOR << '.' << TOML_LIB_MINOR << '.' << TOML_LIB_PATCH);
    CHECK(BERTH_TOML_PATCHED == (TOML_LIB_MAJOR == 3 && TOML_LIB_MINOR <= 4 ? 1 : 0));
}

namespace {

bool has_syntax_error_at(const berth::Resolution& resolution, std::uint32_t line) {
    for (const auto& d : resolution.diagnostics)
        if (d.code == "toml.syntax" && d.line == line && !d.message.empty()) return true;
    return false;
}

}  // namespace

TEST_CASE("non-ASCII text where toml++ 3.3 and 3.4 had undefined behaviour is refused cleanly", "[toml]") {
    // Each reached TOML_UNREACHABLE in is_non_ascii_horizontal_whitespace() (upstream #190, #295) or broke
    // parse_key()'s precondition (upstream #301) before the patch.
    for (std::string_view text : {"é = 1\n", "a = 1 é\n", "[é]\n", "a.Ж = 1\n", "。 = 1\n", "[[[1]]]\n",
                                  "[server.listener.\"x\"]\nbind = [\"[::]:25\"] §\n"}) {
        INFO(text);
        const berth::Resolution resolution = berth::load(text);
        CHECK_FALSE(resolution.valid());
        CHECK(has_syntax_error_at(resolution, text.starts_with("[server") ? 2 : 1));
    }
}

TEST_CASE("a valid document with non-ASCII text after a line-ending backslash reads", "[toml]") {
    // `s = """\` and a newline, then `§"""`: valid TOML that also reached the unreachable branch.
    const berth::Resolution resolution = berth::load("s = \"\"\"\\\n§\"\"\"\n");
    for (const auto& d : resolution.diagnostics) CHECK(d.code != "toml.syntax");
}
