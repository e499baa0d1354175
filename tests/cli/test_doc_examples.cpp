// The documents' code examples are files of examples/, compiled and run by CTest with their output
// checked; these tests keep each document's copy equal to its file.
#include "support/catch.hpp"

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#ifndef BERTH_TESTS_DIR
#error "BERTH_TESTS_DIR must name the tests folder (the tests CMake defines it)"
#endif

namespace {
std::string read(const std::string& relative) {
    std::ifstream in(std::string(BERTH_TESTS_DIR) + "/../" + relative);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The first ```cpp block of `document` after the line `after` (from the start when empty).
std::string first_cpp_block(const std::string& document, std::string_view after = {}) {
    const auto from = after.empty() ? 0 : document.find(after);
    REQUIRE(from != std::string::npos);
    const auto begin = document.find("```cpp\n", from);
    REQUIRE(begin != std::string::npos);
    const auto end = document.find("```", begin + 7);
    REQUIRE(end != std::string::npos);
    return document.substr(begin + 7, end - begin - 7);
}

/// The example file without its first line, which says what the file is.
std::string example_body(const std::string& path) {
    std::string example = read(path);
    example.erase(0, example.find('\n') + 1);
    return example;
}
}  // namespace

TEST_CASE("README's C++ example is examples/readme.cpp", "[docs]") {
    CHECK(first_cpp_block(read("README.md")) == example_body("examples/readme.cpp"));
}

TEST_CASE("docs/acceptor.md's first example is examples/acceptor_doc.cpp", "[docs]") {
    CHECK(first_cpp_block(read("docs/acceptor.md"), "## Use it") == example_body("examples/acceptor_doc.cpp"));
}
