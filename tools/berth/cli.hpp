#pragma once
// What every `berth` command shares: reading the input, printing diagnostics, colour, usage errors.

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/model.hpp"

namespace berth::cli {

/// Exit statuses of every command.
enum Exit : int { ok = 0, invalid = 1, usage = 2 };

struct Input {
    std::string name;  ///< as given on the command line; "-" is standard input
    std::string text;
    Format format = Format::toml;
};

/// Reads FILE (or "-"); on failure prints why to stderr and returns nothing.
std::optional<Input> read_input(std::string_view name);

/// Colour on standard output only when it is a terminal and NO_COLOR is not set.
bool stdout_has_colour();

/// `FILE:LINE:COL: error[CODE]: PATH: message` and the hint on the next line.
void print_diagnostics(std::FILE* out, std::string_view file, const std::vector<Diagnostic>& diagnostics,
                       bool colour);

/// `FILE: N errors, M warnings` (or `FILE: valid`).
void print_summary(std::FILE* out, std::string_view file, const std::vector<Diagnostic>& diagnostics);

/// Prints "berth COMMAND: message" and the command's usage line to stderr; returns Exit::usage.
int usage_error(std::string_view command, std::string_view message, std::string_view usage);

bool is_help(std::string_view arg);

int check_main(const std::vector<std::string_view>& args);
int explain_main(const std::vector<std::string_view>& args);
int resolve_main(const std::vector<std::string_view>& args);
int convert_main(const std::vector<std::string_view>& args);
int conformance_main(const std::vector<std::string_view>& args);
int serve_main(const std::vector<std::string_view>& args);
int probe_main(const std::vector<std::string_view>& args);

}  // namespace berth::cli
