// `berth explain FILE`: every resolved field of every listener and where it came from.
#include <algorithm>
#include <cstdio>

#include "cli.hpp"

namespace berth::cli {

namespace {
constexpr std::string_view usage_line = "berth explain [--json] FILE";
constexpr std::string_view help_text = R"(berth explain: show how each listener was resolved

usage: berth explain [--json] FILE

For every listener, a table of every field: its resolved value and where it came from (the key
and line:column that set it, the server-wide default it inherited, or berth's built-in default).
Diagnostics follow the tables. With --json, prints the SPEC §6 document instead (as berth resolve).

Exit status: 0 valid, 1 invalid, 2 usage error or unreadable file.
)";

/// A value as a person reads it: durations with units, lists comma-separated, unset explained.
std::string human(const FieldValue& v, Surface surface) {
    return std::visit(
        [&](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Unset>) return "(unset: OS default)";
            else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::uint64_t>) return std::to_string(x);
            else if constexpr (std::is_same_v<T, Duration>) return x.to_string();
            else if constexpr (std::is_same_v<T, Protocol>)
                return std::string(surface == Surface::toml ? toml_name(x) : json_name(x));
            else {
                if (x.empty()) return "(none)";
                std::string out;
                for (const auto& e : x) {
                    if (!out.empty()) out += ", ";
                    if constexpr (requires { e.to_string(); }) out += e.to_string();
                    else out += surface == Surface::toml ? toml_name(e) : json_name(e);
                }
                return out;
            }
        },
        v);
}

std::string origin(const Source& s) {
    if (s.is_default()) return "built-in default";
    if (s.line == 0) return s.path.str();
    return s.path + " (" + std::to_string(s.line) + ":" + std::to_string(s.column) + ")";
}

void print_listener(const ResolvedListener& l, Surface surface, bool colour) {
    const char* bold = colour ? "\033[1m" : "";
    const char* dim = colour ? "\033[2m" : "";
    const char* reset = colour ? "\033[0m" : "";
    std::printf("%slistener %s%s  %s%s%s\n", bold, l.name.c_str(), reset, dim, origin(l.name_source).c_str(), reset);
    std::size_t name_width = 5, value_width = 5;
    std::vector<std::array<std::string, 3>> rows;
    for (const auto& spec : all_fields()) {
        std::string name(surface == Surface::toml ? spec.toml_key : spec.json_name);
        std::string value = human(field_value(l, spec.field), surface);
        name_width = std::max(name_width, name.size());
        value_width = std::max(value_width, value.size());
        rows.push_back({std::move(name), std::move(value), origin(l.source_of(spec.field))});
    }
    std::printf("  %s%-*s  %-*s  %s%s\n", dim, static_cast<int>(name_width), "field", static_cast<int>(value_width),
                "value", "from", reset);
    for (const auto& [name, value, from] : rows) {
        const bool is_default = from == "built-in default";
        std::printf("  %-*s  %-*s  %s%s%s\n", static_cast<int>(name_width), name.c_str(),
                    static_cast<int>(value_width), value.c_str(), is_default ? dim : "", from.c_str(),
                    is_default ? reset : "");
    }
    std::printf("\n");
}
}  // namespace

int explain_main(const std::vector<std::string_view>& args) {
    std::optional<std::string_view> file;
    bool json = false;
    for (auto arg : args) {
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        }
        if (arg == "--json") json = true;
        else if (arg.size() > 1 && arg.starts_with("-")) return usage_error("explain", "unknown option " + std::string(arg), usage_line);
        else if (file) return usage_error("explain", "one FILE only", usage_line);
        else file = arg;
    }
    if (!file) return usage_error("explain", "no FILE given", usage_line);
    auto input = read_input(*file);
    if (!input) return Exit::usage;
    const Resolution resolution = load(input->text, input->format);
    if (json) {
        const std::string out = dump(to_json(resolution));
        std::printf("%s\n", out.c_str());
    } else {
        const bool colour = stdout_has_colour();
        for (const auto& l : resolution.listeners) print_listener(l, resolution.surface, colour);
        print_diagnostics(stdout, input->name, resolution.diagnostics, colour);
        print_summary(stdout, input->name, resolution.diagnostics);
    }
    return resolution.valid() ? Exit::ok : Exit::invalid;
}

}  // namespace berth::cli
