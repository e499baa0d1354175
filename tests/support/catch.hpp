#pragma once
// Catch2 for berth's tests, on Catch2 3 (Debian 13, Ubuntu 24.04, vcpkg, Conan) and on Catch2 2.13 (Debian 12).
// Tests include this instead of a Catch2 header and are written in Catch2 3's spelling; on Catch2 2 the few
// names that differ are provided here. Property tests include "support/rapidcheck_catch.hpp" instead.

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#define BERTH_CATCH2_MAJOR 3
#else
#include <catch2/catch.hpp>
#define BERTH_CATCH2_MAJOR 2

#include <string>

namespace Catch::Matchers {
// Catch2 3 renamed the substring matcher Contains to ContainsSubstring.
inline StdString::ContainsMatcher ContainsSubstring(const std::string& text,
                                                    CaseSensitive::Choice sensitivity = CaseSensitive::Yes) {
    return Contains(text, sensitivity);
}
}  // namespace Catch::Matchers
#endif
