// Prints toml++'s own state of the two macros berth patches, as a translation unit that includes toml++ alone
// (and nothing of berth's) sees them after toml++: model/toml_safe.hpp's test compares it with what a
// translation unit sees after including berth. It is a program of its own because linking toml++'s unpatched
// inline code into a binary with berth's patched copy would be an ODR violation.
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h>
#endif

#include <cstdio>

#define BERTH_PRISTINE_TEXT_OF(...) #__VA_ARGS__
#define BERTH_PRISTINE_TEXT(...) BERTH_PRISTINE_TEXT_OF(__VA_ARGS__)

int main() {
    std::printf("%s\n%s\n", BERTH_PRISTINE_TEXT(TOML_UNREACHABLE), BERTH_PRISTINE_TEXT(TOML_ASSERT_ASSUME(condition)));
}
