// The README's code example is examples/readme.cpp, compiled and run by CTest; this keeps them equal.
#include "support/catch.hpp"

#include <fstream>
#include <iterator>
#include <string>

#ifndef BERTH_TESTS_DIR
#error "BERTH_TESTS_DIR must name the tests folder (the tests CMake defines it)"
#endif

namespace {
std::string read(const std::string& relative) {
    std::ifstream in(std::string(BERTH_TESTS_DIR) + "/../" + relative);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("README's C++ example is examples/readme.cpp", "[docs]") {
    const std::string readme = read("README.md");
    const auto begin = readme.find("```cpp\n");
    REQUIRE(begin != std::string::npos);
    const auto end = readme.find("```", begin + 7);
    REQUIRE(end != std::string::npos);
    const std::string snippet = readme.substr(begin + 7, end - begin - 7);
    std::string example = read("examples/readme.cpp");
    example.erase(0, example.find('\n') + 1);  // the file's first line says what it is
    CHECK(snippet == example);
}
