// Every conformance case, judged against berth's own resolution in-process (with warnings and codes),
// and the suite shown to catch a deliberately wrong implementation.
#include "../../tools/berth/conformance_check.hpp"

#include "support/catch.hpp"

#include <cstdlib>

#include "berth/model.hpp"

#ifndef BERTH_TESTS_DIR
#error "BERTH_TESTS_DIR must name the tests folder (the tests CMake defines it)"
#endif

namespace {

const std::vector<berth::conformance::Case>& all_cases() {
    static const auto cases = berth::conformance::discover(std::string(BERTH_TESTS_DIR) + "/../conformance/cases");
    return cases;
}

berth::ReadOptions environment_of(const berth::conformance::Case& c) {
    berth::ReadOptions options;
    const nlohmann::json env = c.expect.is_object() ? c.expect.value("env", nlohmann::json::object()) : nlohmann::json::object();
    options.environment = [env](std::string_view name) -> std::optional<std::string> {
        const std::string key(name);
        if (env.contains(key)) {
            if (env[key].is_null()) return std::nullopt;
            return env[key].is_string() ? env[key].get<std::string>() : env[key].dump();
        }
        if (const char* v = std::getenv(key.c_str())) return std::string(v);
        return std::nullopt;
    };
    return options;
}

/// berth's adapter, in-process: what `berth resolve FILE` prints, and its exit status.
std::pair<int, std::string> berth_adapter(const berth::conformance::Case& c) {
    const std::string text = berth::conformance::read_text(c.input);
    const auto format = berth::format_from_name(c.input.string()).value_or(berth::Format::toml);
    berth::ResolveOptions resolve_options;
    resolve_options.somaxconn = 4096;  // the backlog warning must not depend on the host
    const auto r = berth::load(text, format, environment_of(c), resolve_options);
    return {r.valid() ? 0 : 1, berth::dump(berth::to_json(r))};
}

}  // namespace

TEST_CASE("the suite has the cases the issue asks for", "[conformance]") {
    CHECK(all_cases().size() >= 150);
    std::size_t docs = 0;
    for (const auto& c : all_cases()) {
        INFO(c.name);
        REQUIRE(c.expect.is_object());
        CHECK(c.expect.contains("checks"));
        docs += c.name.starts_with("docs/");
    }
    CHECK(docs >= 10);
}

TEST_CASE("berth passes every conformance case, warnings and codes included", "[conformance]") {
    const berth::conformance::CheckOptions strict{true, true};
    std::size_t passed = 0;
    for (const auto& c : all_cases()) {
        const auto [status, output] = berth_adapter(c);
        const auto verdict = berth::conformance::judge(c, status, output, strict);
        std::string problems;
        for (const auto& p : verdict.problems) problems += "\n  - " + p;
        INFO(c.name << problems);
        CHECK(verdict.passed());
        passed += verdict.passed();
    }
    CHECK(passed == all_cases().size());
}

TEST_CASE("the suite fails an implementation that ignores server-wide defaults", "[conformance]") {
    // A plausible bug: resolve each listener from its own keys and the built-in defaults only.
    std::size_t failed = 0;
    std::string first_problem;
    for (const auto& c : all_cases()) {
        if (c.input.extension() != ".toml") continue;
        const std::string text = berth::conformance::read_text(c.input);
        berth::Configuration config = berth::read_toml(text, environment_of(c));
        config.server = berth::Layer{};
        const auto r = berth::resolve(config);
        const auto verdict = berth::conformance::judge(c, r.valid() ? 0 : 1, berth::dump(berth::to_json(r)), {});
        if (!verdict.passed()) {
            ++failed;
            if (first_problem.empty()) first_problem = c.name + ": " + verdict.problems.front();
        }
    }
    INFO(first_problem);
    CHECK(failed >= 10);
    CHECK(first_problem.find("expected") != std::string::npos);
}

TEST_CASE("the suite fails an implementation with the wrong exit status or no JSON", "[conformance]") {
    std::size_t failed_status = 0, failed_output = 0;
    for (const auto& c : all_cases()) {
        const auto [status, output] = berth_adapter(c);
        failed_status += !berth::conformance::judge(c, status == 0 ? 1 : 0, output, {}).passed();
        failed_output += !berth::conformance::judge(c, status, "not json", {}).passed();
    }
    CHECK(failed_status == all_cases().size());
    CHECK(failed_output == all_cases().size());
}
