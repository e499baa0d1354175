// The berth command line: dispatches to one command per file.
#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <vector>

#include "cli.hpp"

namespace {

constexpr std::string_view help_text = R"(berth: Stalwart-compatible network listeners

usage: berth COMMAND [ARGS...]

commands:
  serve [FILE] [--threads N]
                           serve every listener (embedded configuration without FILE)
  check FILE...            validate configurations; compiler-style diagnostics
  explain [--json] FILE    every resolved field of every listener, and where it came from
  resolve FILE             the resolved listeners as JSON (the conformance adapter contract)
  convert FILE --to json|toml [--wire stalwart]
                           translate between Stalwart TOML and NetworkListener JSON
  conformance --impl 'CMD {file}'
                           run the conformance suite against any implementation
  probe --config FILE --host ADDR [--limits] [--proxy]
                           check a running server against the configuration it claims

FILE is Stalwart TOML (server.listener.<id>.*) or NetworkListener JSON; "-" reads standard input.
Run "berth COMMAND --help" for a command's details.
)";

using Command = int (*)(const std::vector<std::string_view>&);

struct Entry {
    std::string_view name;
    Command run;
};

int dispatch(int argc, char** argv) {
    static constexpr Entry commands[] = {
        {"check", berth::cli::check_main},
        {"explain", berth::cli::explain_main},
        {"resolve", berth::cli::resolve_main},
        {"convert", berth::cli::convert_main},
        {"conformance", berth::cli::conformance_main},
        {"serve", berth::cli::serve_main},
        {"probe", berth::cli::probe_main},
    };
    if (argc < 2 || berth::cli::is_help(argv[1])) {
        std::fputs(help_text.data(), argc < 2 ? stderr : stdout);
        return argc < 2 ? berth::cli::Exit::usage : berth::cli::Exit::ok;
    }
    const std::string_view name = argv[1];
    if (name == "--version") {
        std::printf("berth %s\n", BERTH_VERSION_STRING);
        return berth::cli::Exit::ok;
    }
    const std::vector<std::string_view> args(argv + 2, argv + argc);
    for (const auto& c : commands)
        if (c.name == name) return c.run(args);
    std::fprintf(stderr, "berth: unknown command '%.*s'\n\n%s", static_cast<int>(name.size()), name.data(),
                 help_text.data());
    return berth::cli::Exit::usage;
}

}  // namespace

int main(int argc, char** argv) {
    // Whatever the input, nothing escapes as a crash: an exception here is a bug, reported plainly.
    try {
        return dispatch(argc, argv);
    } catch (const std::bad_alloc&) {
        std::fputs("berth: out of memory\n", stderr);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "berth: internal error: %s\n", e.what());
    } catch (...) {
        std::fputs("berth: internal error\n", stderr);
    }
    return berth::cli::Exit::usage;
}
