// `berth convert FILE --to json|toml [--wire stalwart]`: move a configuration between the surfaces.
#include <cstdio>

#include "cli.hpp"

namespace berth::cli {

namespace {
constexpr std::string_view usage_line = "berth convert FILE --to json|toml [--wire document|stalwart]";
constexpr std::string_view help_text = R"(berth convert: translate a listener configuration between TOML and JSON

usage: berth convert FILE --to json|toml [--wire document|stalwart]

--to json    Stalwart TOML (or JSON) to NetworkListener JSON, in the shape
             {"maxConnections", "proxyTrustedNetworks", "listeners": [...]}.
--to toml    NetworkListener JSON (any accepted shape, or TOML) to Stalwart TOML.
--wire       document (default): sets as arrays, as the NetworkListener document shows them;
             stalwart: sets as {"member": true} objects, as Stalwart 0.16 stores them, and only
             fields Stalwart knows.

Durations are written as milliseconds in JSON and with the shortest exact unit in TOML. What the
target cannot express the way the source did (a server-wide default with no JSON counterpart,
socket.linger) is reported on standard error as "note:" lines; the result still resolves to the same
listeners. An invalid configuration is not converted: its diagnostics are printed and the exit status is 1.
)";
}  // namespace

int convert_main(const std::vector<std::string_view>& args) {
    std::optional<std::string_view> file, to, wire;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        }
        auto value = [&](std::optional<std::string_view>& slot) {
            if (i + 1 >= args.size()) return false;
            slot = args[++i];
            return true;
        };
        if (arg == "--to") {
            if (!value(to)) return usage_error("convert", "--to needs json or toml", usage_line);
        } else if (arg == "--wire") {
            if (!value(wire)) return usage_error("convert", "--wire needs document or stalwart", usage_line);
        } else if (arg.size() > 1 && arg.starts_with("-")) {
            return usage_error("convert", "unknown option " + std::string(arg), usage_line);
        } else if (file) {
            return usage_error("convert", "one FILE only", usage_line);
        } else {
            file = arg;
        }
    }
    if (!file) return usage_error("convert", "no FILE given", usage_line);
    if (!to || (*to != "json" && *to != "toml")) return usage_error("convert", "--to must be json or toml", usage_line);
    if (wire && *wire != "document" && *wire != "stalwart")
        return usage_error("convert", "--wire must be document or stalwart", usage_line);
    if (wire && *to != "json") return usage_error("convert", "--wire applies to --to json", usage_line);

    auto input = read_input(*file);
    if (!input) return Exit::usage;
    const Configuration config = read_configuration(input->text, input->format);
    const Resolution resolution = resolve(config);
    if (!resolution.valid()) {
        print_diagnostics(stderr, input->name, resolution.diagnostics, false);
        print_summary(stderr, input->name, resolution.diagnostics);
        return Exit::invalid;
    }
    Conversion conversion;
    if (*to == "json") {
        conversion = to_json_text(config, wire == "stalwart" ? JsonWire::stalwart : JsonWire::document);
    } else if (config.surface == Surface::json) {
        conversion = to_toml_text(config);
    } else {
        // TOML to TOML: through JSON, which writes every server-wide socket and TLS default per listener.
        conversion = to_json_text(config);
        Conversion back = to_toml_text(read_json(conversion.text));
        back.notes.insert(back.notes.begin(), conversion.notes.begin(), conversion.notes.end());
        conversion = std::move(back);
    }
    std::fwrite(conversion.text.data(), 1, conversion.text.size(), stdout);
    for (const auto& note : conversion.notes)
        std::fprintf(stderr, "note: %s: %s\n", note.path.c_str(), note.message.c_str());
    return Exit::ok;
}

}  // namespace berth::cli
