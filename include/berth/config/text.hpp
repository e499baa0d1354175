#pragma once
// Small text helpers shared by the surfaces: key quoting, JSON pointers, decimal parsing, case folding.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/model/parsed.hpp"  // quote_text(), ASCII classes

namespace berth::detail {

[[nodiscard]] constexpr bool is_bare_key(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_';
        if (!ok) return false;
    }
    return true;
}

/// Appends one TOML key segment as a path shows it: bare when it can be, else a quoted basic string.
inline void append_toml_key_segment(std::string& out, std::string_view s) {
    if (is_bare_key(s)) {
        out.append(s);
        return;
    }
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

/// One TOML key segment as a path shows it: bare when it can be, else a quoted basic string.
[[nodiscard]] inline std::string toml_key_segment(std::string_view s) {
    std::string out;
    append_toml_key_segment(out, s);
    return out;
}

/// A JSON pointer reference token (RFC 6901).
[[nodiscard]] inline std::string json_pointer_token(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

/// Decimal digits only (no sign, no space), saturating to nullopt on overflow.
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

[[nodiscard]] inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace berth::detail
