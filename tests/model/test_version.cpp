#include <berth/version.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <string>

// The three macros, the string macro, the combined number and berth::version are written by hand
// in one header; these checks catch one of them being bumped without the others.

static_assert(berth::version.major == BERTH_VERSION_MAJOR);
static_assert(berth::version.minor == BERTH_VERSION_MINOR);
static_assert(berth::version.patch == BERTH_VERSION_PATCH);
static_assert(BERTH_VERSION_MINOR < 100 && BERTH_VERSION_PATCH < 100, "BERTH_VERSION gives each two digits");
static_assert(BERTH_VERSION == BERTH_VERSION_MAJOR * 10000 + BERTH_VERSION_MINOR * 100 + BERTH_VERSION_PATCH);

TEST_CASE("the version string spells out the three version numbers", "[version]") {
    const std::string expected = std::to_string(BERTH_VERSION_MAJOR) + "." + std::to_string(BERTH_VERSION_MINOR) +
                                 "." + std::to_string(BERTH_VERSION_PATCH);
    CHECK(BERTH_VERSION_STRING == expected);
    CHECK(berth::version.text == expected);
}

// BERTH_TEST_PROJECT_VERSION is PROJECT_VERSION as CMake read it from version.hpp (tests/CMakeLists.txt).
TEST_CASE("CMake's project version is the version the header declares", "[version]") {
    CHECK(std::string{BERTH_TEST_PROJECT_VERSION} == BERTH_VERSION_STRING);
}
