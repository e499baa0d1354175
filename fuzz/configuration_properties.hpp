#pragma once
// The properties the configuration fuzz targets check on any text, valid or not:
//   1. reading and resolving never crash, leak or throw;
//   2. every diagnostic is well-formed: a known code whose severity matches SPEC §4, a one-line message, a path
//      a user could write (a TOML key or an RFC 6901 pointer), and a position inside the text (line and column
//      from 1; the model reports 0 only for values built in code, which a text never produces);
//   3. every resolved listener is complete and in range, with the provenance of every non-default value;
//   4. the SPEC §6 document is valid JSON;
//   5. a valid configuration converted to the other surface and read back (and converted to its own surface's
//      canonical form and back) resolves to the same listeners.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/model.hpp"
#include "fuzz_check.hpp"

namespace berth_fuzz {

/// `%{env:NAME}%` looks names up here, never in the host's environment, so every run is repeatable. The
/// dictionaries list these names.
inline berth::ReadOptions fixed_environment() {
    berth::ReadOptions options;
    options.environment = [](std::string_view name) -> std::optional<std::string> {
        static constexpr std::pair<std::string_view, std::string_view> variables[] = {
            {"PORT", "25"}, {"BIND", "[::]:25"}, {"ADDR", "192.0.2.1:587"}, {"NET", "10.0.0.0/8"}, {"TIMEOUT", "30s"},
            {"ON", "true"}, {"EMPTY", ""},       {"PROTO", "imap"},
        };
        for (const auto& [known, value] : variables)
            if (known == name) return std::string(value);
        return std::nullopt;
    };
    return options;
}

/// A fixed net.core.somaxconn, so the backlog warning does not depend on the host (and /proc is not read).
inline berth::ResolveOptions fixed_host() {
    berth::ResolveOptions options;
    options.somaxconn = 4096;
    return options;
}

/// The lines of a text, to check that positions point into it.
class TextShape {
public:
    explicit TextShape(std::string_view text) {
        std::size_t start = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '\n') continue;
            line_bytes_.push_back(i - start);
            start = i + 1;
        }
        line_bytes_.push_back(text.size() - start);
    }
    [[nodiscard]] std::size_t line_count() const noexcept { return line_bytes_.size(); }
    /// Bytes on a 1-based line, without the '\n'. Columns count code points, so a column is at most this + 1.
    [[nodiscard]] std::size_t line_bytes(std::size_t line) const noexcept { return line_bytes_[line - 1]; }

    [[nodiscard]] bool contains(std::uint32_t line, std::uint32_t column) const noexcept {
        return line >= 1 && line <= line_count() && column >= 1 && column <= line_bytes(line) + 1;
    }

private:
    std::vector<std::size_t> line_bytes_;
};

inline std::string describe(const berth::Diagnostic& d) {
    return std::string(berth::to_string(d.severity)) + " " + d.code + " at '" + d.path + "' " + std::to_string(d.line) +
           ":" + std::to_string(d.column) + ": " + d.message + " [hint: " + d.hint + "]";
}

inline std::string describe(const berth::Source& s) {
    return "'" + s.path + "' " + std::to_string(s.line) + ":" + std::to_string(s.column);
}

inline std::string describe(const berth::ResolvedListener& l) { return berth::dump(berth::to_json(l, true), -1); }

/// SPEC §4's warnings; every other code is an error.
inline bool is_warning_code(std::string_view code) noexcept {
    static constexpr std::string_view warnings[] = {
        "key.unknown",       "list.empty-inherits", "socket.backlog-clamped",
        "ip-mask.host-bits", "tls.port-convention", "config.no-listeners"};
    return std::find(std::begin(warnings), std::end(warnings), code) != std::end(warnings);
}

/// Codes whose diagnostic has no path: the text could not be read as a document at all.
inline bool is_document_level_code(std::string_view code) noexcept {
    return code == "toml.syntax" || code == "json.syntax" || code == "json.too-deep";
}

/// RFC 6901: empty (the whole document), or `/`-separated tokens in which `~` is always `~0` or `~1`.
inline bool is_json_pointer(std::string_view pointer) noexcept {
    if (pointer.empty()) return true;
    if (pointer.front() != '/') return false;
    for (std::size_t i = 0; i < pointer.size(); ++i)
        if (pointer[i] == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
            return false;
    return true;
}

/// A TOML path as berth prints it: a dotted key a user could write, then any number of `[N]` element indexes.
inline bool is_toml_path(std::string_view path) {
    while (!path.empty() && path.back() == ']') {
        const std::size_t open = path.rfind('[');
        if (open == std::string_view::npos || open + 2 > path.size() - 1) return false;
        const std::string_view digits = path.substr(open + 1, path.size() - open - 2);
        if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
        path = path.substr(0, open);
    }
    if (!path.starts_with("server")) return false;
    // The key must parse as the left-hand side of a key/value pair, and as nothing more.
    const std::string probe = std::string(path) + " = 0\n";
#if TOML_EXCEPTIONS
    try {
        (void)toml::parse(probe, std::string_view{"path.toml"});
        return true;
    } catch (const toml::parse_error&) {
        return false;
    }
#else
    return static_cast<bool>(toml::parse(probe, std::string_view{"path.toml"}));
#endif
}

inline void check_diagnostic(const berth::Diagnostic& d, const TextShape& shape, berth::Surface surface) {
    BERTH_FUZZ_CHECK_DETAIL(berth::is_known_diagnostic_code(d.code), describe(d));
    BERTH_FUZZ_CHECK_DETAIL(d.severity == berth::Severity::error || d.severity == berth::Severity::warning,
                            describe(d));
    BERTH_FUZZ_CHECK_DETAIL(d.is_error() != is_warning_code(d.code), describe(d));
    BERTH_FUZZ_CHECK_DETAIL(!d.message.empty(), describe(d));
    BERTH_FUZZ_CHECK_DETAIL(d.message.find('\n') == std::string::npos, describe(d));
    BERTH_FUZZ_CHECK_DETAIL(shape.contains(d.line, d.column),
                            describe(d) + " (the text has " + std::to_string(shape.line_count()) + " lines)");
    if (is_document_level_code(d.code)) {
        BERTH_FUZZ_CHECK_DETAIL(d.path.empty(), describe(d));
        BERTH_FUZZ_CHECK_DETAIL(d.code.starts_with(surface == berth::Surface::toml ? "toml." : "json."), describe(d));
    } else if (surface == berth::Surface::toml) {
        BERTH_FUZZ_CHECK_DETAIL(is_toml_path(d.path), describe(d));
    } else {
        BERTH_FUZZ_CHECK_DETAIL(is_json_pointer(d.path), describe(d));
    }
}

inline void check_source_in_text(const berth::Source& s, const TextShape& shape, const std::string& what) {
    BERTH_FUZZ_CHECK_DETAIL(shape.contains(s.line, s.column), what + " comes from " + describe(s));
}

template <class T, class Text>
bool strictly_sorted(const std::vector<T>& items, Text text) {
    for (std::size_t i = 1; i < items.size(); ++i)
        if (!(text(items[i - 1]) < text(items[i]))) return false;
    return true;
}

/// A resolved listener is complete, in SPEC §1's ranges, and says where each non-default value came from.
inline void check_listener(const berth::ResolvedListener& l, const TextShape& shape) {
    using berth::Field;
    const std::string shown = describe(l);
    BERTH_FUZZ_CHECK_DETAIL(!l.name.empty(), shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.bind.empty(), shown);
    BERTH_FUZZ_CHECK_DETAIL(l.max_connections >= 1, shown);
    BERTH_FUZZ_CHECK_DETAIL(l.socket_backlog >= 1 && l.socket_backlog <= berth::max_int32, shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.socket_ttl || *l.socket_ttl >= 1, shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.socket_tos_v4 || *l.socket_tos_v4 >= 1, shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.socket_send_buffer_size ||
                                (*l.socket_send_buffer_size >= 1 && *l.socket_send_buffer_size <= berth::max_int32),
                            shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.socket_receive_buffer_size || (*l.socket_receive_buffer_size >= 1 &&
                                                              *l.socket_receive_buffer_size <= berth::max_int32),
                            shown);
    BERTH_FUZZ_CHECK_DETAIL(!l.socket_linger || (l.socket_linger->milliseconds() % 1000 == 0 &&
                                                 l.socket_linger->milliseconds() <= 2147483647000u),
                            shown);
    BERTH_FUZZ_CHECK_DETAIL(l.tls_timeout.milliseconds() >= 1, shown);

    // SPEC §4: a valid listener keeps a TLS version, and a cipher suite for each version it keeps.
    using berth::TlsVersion;
    BERTH_FUZZ_CHECK_DETAIL(l.version_enabled(TlsVersion::tls12) || l.version_enabled(TlsVersion::tls13), shown);
    for (const auto version : berth::all_tls_versions()) {
        if (!l.version_enabled(version)) continue;
        bool suite_left = false;
        for (const auto suite : berth::all_cipher_suites())
            if (berth::version_of(suite) == version &&
                std::find(l.tls_disable_cipher_suites.begin(), l.tls_disable_cipher_suites.end(), suite) ==
                    l.tls_disable_cipher_suites.end())
                suite_left = true;
        BERTH_FUZZ_CHECK_DETAIL(suite_left, shown);
    }

    // SPEC §6: lists are sets of canonical strings, sorted.
    BERTH_FUZZ_CHECK_DETAIL(strictly_sorted(l.bind, [](const auto& a) { return a.to_string(); }), shown);
    BERTH_FUZZ_CHECK_DETAIL(strictly_sorted(l.proxy_trusted_networks, [](const auto& m) { return m.to_string(); }),
                            shown);
    BERTH_FUZZ_CHECK_DETAIL(
        strictly_sorted(l.tls_disable_protocols, [](auto v) { return std::string(berth::json_name(v)); }), shown);
    BERTH_FUZZ_CHECK_DETAIL(
        strictly_sorted(l.tls_disable_cipher_suites, [](auto c) { return std::string(berth::json_name(c)); }), shown);

    // Provenance: a value from the text points into the text; a value from nowhere is the built-in default.
    check_source_in_text(l.name_source, shape, "the name of listener '" + l.name + "'");
    for (const auto& spec : berth::all_fields()) {
        const berth::Source& source = l.source_of(spec.field);
        const std::string what = "field " + std::string(spec.json_name) + " of listener '" + l.name + "'";
        if (source.is_default())
            BERTH_FUZZ_CHECK_DETAIL(berth::field_value(l, spec.field) == berth::default_value(spec.field),
                                    what + " has default provenance but not the default value: " + shown);
        else
            check_source_in_text(source, shape, what);
    }
    BERTH_FUZZ_CHECK_DETAIL(!l.source_of(Field::bind).is_default(), shown);
}

inline void check_resolution(const berth::Resolution& r, std::string_view text, berth::Surface surface) {
    const TextShape shape(text);
    BERTH_FUZZ_CHECK(r.surface == surface);
    for (const auto& d : r.diagnostics) check_diagnostic(d, shape, surface);
    for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
        const auto& a = r.diagnostics[i - 1];
        const auto& b = r.diagnostics[i];
        BERTH_FUZZ_CHECK_DETAIL(a.line < b.line || (a.line == b.line && a.column <= b.column),
                                "not sorted by position: " + describe(a) + " before " + describe(b));
    }
    BERTH_FUZZ_CHECK(r.valid() == !berth::has_errors(r.diagnostics));
    BERTH_FUZZ_CHECK_DETAIL(strictly_sorted(r.listeners, [](const auto& l) { return l.name; }),
                            "listeners are not sorted by name, or a name repeats");
    for (const auto& l : r.listeners) check_listener(l, shape);
    const std::string document = berth::dump(berth::to_json(r));
    BERTH_FUZZ_CHECK_DETAIL(nlohmann::json::accept(document), "the SPEC §6 document is not JSON: " + document);
}

inline std::string first_error(const berth::Resolution& r) {
    for (const auto& d : r.diagnostics)
        if (d.is_error()) return describe(d);
    return {};
}

/// `converted` (the same configuration through another text) resolves, without error, to the same listeners.
inline void check_same_listeners(const berth::Resolution& original, const berth::Resolution& converted,
                                 const std::string& route) {
    BERTH_FUZZ_CHECK_DETAIL(converted.valid(), route + " made the configuration invalid: " + first_error(converted));
    BERTH_FUZZ_CHECK_DETAIL(original.listeners.size() == converted.listeners.size(),
                            route + ": " + std::to_string(original.listeners.size()) + " listeners became " +
                                std::to_string(converted.listeners.size()));
    for (std::size_t i = 0; i < original.listeners.size(); ++i)
        BERTH_FUZZ_CHECK_DETAIL(original.listeners[i].same_values(converted.listeners[i]),
                                route + " changed a listener:\n  before " + describe(original.listeners[i]) +
                                    "\n  after  " + describe(converted.listeners[i]));
}

inline berth::Resolution resolve_toml_text(std::string_view text) {
    return berth::resolve(berth::read_toml(text, fixed_environment()), fixed_host());
}

inline berth::Resolution resolve_json_text(std::string_view text) {
    return berth::resolve(berth::read_json(text), fixed_host());
}

/// Property 5 for a valid configuration read from `surface`.
inline void check_round_trips(const berth::Configuration& config, const berth::Resolution& resolved) {
    const std::string json_text = berth::to_json_text(config).text;
    {
        const DocumentScope scope(json_text);
        check_same_listeners(resolved, resolve_json_text(json_text), "converting to JSON");
    }
    // JSON to TOML starts from a JSON configuration; for TOML input this is the CLI's TOML-to-TOML route.
    const berth::Configuration as_json = berth::read_json(json_text);
    const std::string toml_text = berth::to_toml_text(config.surface == berth::Surface::json ? config : as_json).text;
    {
        const DocumentScope scope(toml_text);
        check_same_listeners(resolved, resolve_toml_text(toml_text), "converting to TOML");
    }
}

/// Properties 1 to 5 for a TOML text.
inline void check_toml_document(std::string_view text) {
    const DocumentScope scope(text);
    const berth::Configuration config = berth::read_toml(text, fixed_environment());
    const berth::Resolution resolved = berth::resolve(config, fixed_host());
    check_resolution(resolved, text, berth::Surface::toml);
    if (resolved.valid()) check_round_trips(config, resolved);
}

/// Properties 1 to 5 for a JSON text.
inline void check_json_document(std::string_view text) {
    const DocumentScope scope(text);
    const berth::Configuration config = berth::read_json(text);
    const berth::Resolution resolved = berth::resolve(config, fixed_host());
    check_resolution(resolved, text, berth::Surface::json);
    if (resolved.valid()) check_round_trips(config, resolved);
}

}  // namespace berth_fuzz
