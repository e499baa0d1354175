#pragma once
// One call from text to resolved listeners, for either surface.

#include <optional>
#include <string_view>

#include "berth/config/json_reader.hpp"
#include "berth/config/toml_reader.hpp"
#include "berth/model/resolve.hpp"

namespace berth {

enum class Format : std::uint8_t { toml, json };

/// The format a file name says (`.toml`, `.json`), if it says one.
[[nodiscard]] constexpr std::optional<Format> format_from_name(std::string_view name) noexcept {
    if (name.ends_with(".toml")) return Format::toml;
    if (name.ends_with(".json")) return Format::json;
    return std::nullopt;
}

/// Guesses from the text: a JSON document starts with `{`, or with `[` followed by `{`, `]` or a value;
/// a TOML table header starts with `[` followed by a key.
[[nodiscard]] constexpr Format detect_format(std::string_view text) noexcept {
    auto skip = [&](std::size_t i) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
        return i;
    };
    const std::size_t first = skip(0);
    if (first >= text.size()) return Format::toml;
    if (text[first] == '{') return Format::json;
    if (text[first] != '[') return Format::toml;
    const std::size_t next = skip(first + 1);
    if (next >= text.size()) return Format::toml;
    const char c = text[next];
    return (c == '{' || c == ']' || c == '[' || c == '-' || (c >= '0' && c <= '9')) && !(c == '[' && next == first + 1)
               ? Format::json
               : Format::toml;
}

[[nodiscard]] inline Configuration read_configuration(std::string_view text, Format format,
                                                      const ReadOptions& options = {}) {
    return format == Format::json ? read_json(text, options) : read_toml(text, options);
}

[[nodiscard]] inline Resolution load(std::string_view text, Format format, const ReadOptions& read_options = {},
                                     const ResolveOptions& resolve_options = {}) {
    // The configuration is load's own, so resolution moves its values instead of copying them.
    auto resolve_it = [&](Configuration& config) { return detail::resolve_consuming(config, resolve_options); };
    if (format == Format::toml) return detail::read_toml_then(text, read_options, resolve_it);
    Configuration config = read_json(text, read_options);
    return resolve_it(config);
}

[[nodiscard]] inline Resolution load(std::string_view text, const ReadOptions& read_options = {},
                                     const ResolveOptions& resolve_options = {}) {
    return load(text, detect_format(text), read_options, resolve_options);
}

}  // namespace berth
