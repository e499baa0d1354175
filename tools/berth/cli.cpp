// Shared CLI plumbing: input, diagnostics, colour.
#include "cli.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace berth::cli {

std::optional<Input> read_input(std::string_view name) {
    Input input;
    input.name = std::string(name);
    if (name == "-") {
        std::ostringstream buffer;
        buffer << std::cin.rdbuf();
        input.text = buffer.str();
    } else {
        std::ifstream file{std::string(name), std::ios::binary};
        if (!file) {
            std::fprintf(stderr, "berth: cannot read %s\n", input.name.c_str());
            return std::nullopt;
        }
        input.text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
        if (file.bad()) {
            std::fprintf(stderr, "berth: error while reading %s\n", input.name.c_str());
            return std::nullopt;
        }
    }
    input.format = format_from_name(name).value_or(detect_format(input.text));
    return input;
}

bool stdout_has_colour() {
    const char* no_colour = std::getenv("NO_COLOR");
    return ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

void print_diagnostics(std::FILE* out, std::string_view file, const std::vector<Diagnostic>& diagnostics,
                       bool colour) {
    const char* bold = colour ? "\033[1m" : "";
    const char* reset = colour ? "\033[0m" : "";
    for (const auto& d : diagnostics) {
        const char* tint = !colour ? "" : d.is_error() ? "\033[1;31m" : "\033[1;33m";
        std::fprintf(out, "%s%.*s:%u:%u:%s %s%s[%s]%s: ", bold, static_cast<int>(file.size()), file.data(), d.line,
                     d.column, reset, tint, std::string(to_string(d.severity)).c_str(), d.code.c_str(), reset);
        if (!d.path.empty()) std::fprintf(out, "%s: ", d.path.c_str());
        std::fprintf(out, "%s\n", d.message.c_str());
        if (!d.hint.empty()) std::fprintf(out, "  %shint:%s %s\n", colour ? "\033[1;36m" : "", reset, d.hint.c_str());
    }
}

void print_summary(std::FILE* out, std::string_view file, const std::vector<Diagnostic>& diagnostics) {
    std::size_t errors = 0, warnings = 0;
    for (const auto& d : diagnostics) (d.is_error() ? errors : warnings)++;
    if (errors == 0 && warnings == 0) {
        std::fprintf(out, "%.*s: valid\n", static_cast<int>(file.size()), file.data());
        return;
    }
    std::fprintf(out, "%.*s: %zu error%s, %zu warning%s\n", static_cast<int>(file.size()), file.data(), errors,
                 errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

int usage_error(std::string_view command, std::string_view message, std::string_view usage) {
    std::fprintf(stderr, "berth %.*s: %.*s\nusage: %.*s\n", static_cast<int>(command.size()), command.data(),
                 static_cast<int>(message.size()), message.data(), static_cast<int>(usage.size()), usage.data());
    return Exit::usage;
}

bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

}  // namespace berth::cli
