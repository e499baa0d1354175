// `berth resolve FILE`: the SPEC §6 adapter contract (stdout JSON; exit 0 valid, 1 invalid).
#include <cstdio>

#include "cli.hpp"

namespace berth::cli {

namespace {
constexpr std::string_view usage_line = "berth resolve [--no-provenance] FILE";
constexpr std::string_view help_text = R"(berth resolve: print the resolved listeners as the conformance adapter document

usage: berth resolve [--no-provenance] FILE

Prints one JSON document on standard output (SPEC §6): every listener, sorted by name, with every
field resolved (null where unset) and where each value came from, and every diagnostic.
This is the adapter contract the conformance suite compares other implementations against.

Exit status: 0 valid, 1 invalid, 2 usage error or unreadable file.
)";
}  // namespace

int resolve_main(const std::vector<std::string_view>& args) {
    std::optional<std::string_view> file;
    bool provenance = true;
    for (auto arg : args) {
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        }
        if (arg == "--no-provenance") provenance = false;
        else if (arg.size() > 1 && arg.starts_with("-")) return usage_error("resolve", "unknown option " + std::string(arg), usage_line);
        else if (file) return usage_error("resolve", "one FILE only", usage_line);
        else file = arg;
    }
    if (!file) return usage_error("resolve", "no FILE given", usage_line);
    auto input = read_input(*file);
    if (!input) return Exit::usage;
    const Resolution resolution = load(input->text, input->format);
    const std::string out = dump(to_json(resolution, provenance));
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
    return resolution.valid() ? Exit::ok : Exit::invalid;
}

}  // namespace berth::cli
