// Reads the benchmarks' generated configuration once, with berth (`load`) or with toml++ alone (`parse`), for an
// instruction count that does not depend on the machine's neighbours:
//
//   valgrind --tool=callgrind bench/load_once load 10000
//   valgrind --tool=callgrind bench/load_once parse 10000
//
// Compare the inclusive counts of the two functions below (callgrind_annotate --inclusive=yes, the lines
// `load_once.cpp:berth_load` and `load_once.cpp:toml_parse`); the text is made before either and is the same
// for both. See docs/performance.md.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/config/toml_safe.hpp"
#include "berth/model.hpp"
#include "generated_configuration.hpp"

namespace {

// Not inlined, so that each has an inclusive count of its own.
[[gnu::noinline]] toml::parse_result toml_parse(const std::string& text) {
    return toml::parse(text, std::string_view{"config.toml"});
}

[[gnu::noinline]] berth::Resolution berth_load(const std::string& text) {
    return berth::load(text, berth::Format::toml, {}, berth::bench::fixed_resolve_options());
}

int usage() {
    std::fprintf(stderr, "usage: load_once load|parse LISTENERS\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) return usage();
    const std::string_view what = argv[1];
    char* end = nullptr;
    const unsigned long listeners = std::strtoul(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || listeners == 0 || listeners > 1'000'000) return usage();
    const std::string text = berth::bench::configuration_text(listeners);
    if (what == "parse") {
        const toml::parse_result parsed = toml_parse(text);
        std::printf("parsed: %s\n", parsed ? "yes" : "no");
        return parsed ? 0 : 1;
    }
    if (what != "load") return usage();
    const berth::Resolution resolution = berth_load(text);
    std::printf("listeners: %zu, diagnostics: %zu\n", resolution.listeners.size(), resolution.diagnostics.size());
    return resolution.listeners.size() == listeners && resolution.diagnostics.empty() ? 0 : 1;
}
