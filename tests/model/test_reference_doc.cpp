// docs/reference.md lists every key and field exactly as the model's field table defines them.
#include "support/reference_table.hpp"

#include "support/catch.hpp"

#include <fstream>
#include <iterator>
#include <string>

#include "berth/model/resolved_listener.hpp"
#include "berth/config/resolved_json.hpp"

#ifndef BERTH_TESTS_DIR
#error "BERTH_TESTS_DIR must name the tests folder (the tests CMake defines it)"
#endif

TEST_CASE("docs/reference.md's field table matches the model", "[docs]") {
    std::ifstream in(std::string(BERTH_TESTS_DIR) + "/../docs/reference.md");
    REQUIRE(in);
    const std::string doc{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string begin = "<!-- fields:begin (generated from include/berth/model/field.hpp; a test checks it) -->\n";
    const std::string end = "<!-- fields:end -->";
    const auto b = doc.find(begin);
    const auto e = doc.find(end);
    REQUIRE(b != std::string::npos);
    REQUIRE(e != std::string::npos);
    const std::string table = doc.substr(b + begin.size(), e - b - begin.size());
    INFO("expected table:\n" << berth::test::reference_table());
    CHECK(table == berth::test::reference_table());
}

TEST_CASE("each field's documented default is the model's default", "[docs]") {
    for (const auto& spec : berth::all_fields()) {
        if (spec.field == berth::Field::bind) continue;
        INFO(spec.json_name);
        CHECK(berth::dump(berth::to_json_value(berth::default_value(spec.field)), -1) == spec.default_text);
    }
}
