// `berth check FILE...`: compiler-style diagnostics; exit 0 valid, 1 invalid, 2 usage error.
#include <cstdio>

#include "cli.hpp"

namespace berth::cli {

namespace {
constexpr std::string_view usage_line = "berth check [--quiet] FILE...";
constexpr std::string_view help_text = R"(berth check: validate listener configurations

usage: berth check [--quiet] FILE...

Reads each FILE (Stalwart TOML, or NetworkListener JSON; "-" reads standard input), resolves every
listener and prints every problem at once, one per line, as
  FILE:LINE:COL: error[CODE]: PATH: message
    hint: the fix
followed by a summary line per file (left out with --quiet).

Exit status: 0 when every file is valid (warnings allowed), 1 when any has an error,
2 on a usage error or an unreadable file.
)";
}  // namespace

int check_main(const std::vector<std::string_view>& args) {
    std::vector<std::string_view> files;
    bool quiet = false;
    for (auto arg : args) {
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        }
        if (arg == "--quiet" || arg == "-q") quiet = true;
        else if (arg.size() > 1 && arg.starts_with("-")) return usage_error("check", "unknown option " + std::string(arg), usage_line);
        else files.push_back(arg);
    }
    if (files.empty()) return usage_error("check", "no FILE given", usage_line);
    int status = Exit::ok;
    const bool colour = stdout_has_colour();
    for (auto name : files) {
        auto input = read_input(name);
        if (!input) {
            status = Exit::usage;
            continue;
        }
        const Resolution resolution = load(input->text, input->format);
        print_diagnostics(stdout, input->name, resolution.diagnostics, colour);
        if (!quiet) print_summary(stdout, input->name, resolution.diagnostics);
        if (!resolution.valid() && status == Exit::ok) status = Exit::invalid;
    }
    return status;
}

}  // namespace berth::cli
