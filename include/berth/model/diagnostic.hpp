#pragma once
// A problem found while reading or resolving a configuration: severity, stable code, path, position, fix.

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth {

enum class Severity : std::uint8_t { error, warning };

[[nodiscard]] constexpr std::string_view to_string(Severity s) noexcept {
    return s == Severity::error ? "error" : "warning";
}

struct Diagnostic {
    Severity severity = Severity::error;
    std::string code;     ///< stable identifier, one of known_diagnostic_codes()
    std::string path;     ///< full TOML key or JSON pointer; empty for syntax errors
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::string message;  ///< one line, what is wrong
    std::string hint;     ///< the fix, when there is one to show

    [[nodiscard]] bool is_error() const noexcept { return severity == Severity::error; }
    friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// Every code berth can report. Tests and fuzzers check diagnostics against this list.
[[nodiscard]] inline constexpr auto known_diagnostic_codes() noexcept {
    return std::to_array<std::string_view>({
        // input
        "toml.syntax", "json.syntax", "json.too-deep", "json.unknown-property", "json.duplicate-name",
        "json.shape", "env.unset", "env.malformed",
        // structure
        "listener.missing-protocol", "listener.missing-bind", "listener.missing-name",
        "listener.empty-name", "listener.not-a-table", "key.unknown", "config.no-listeners",
        // values
        "value.wrong-type", "value.out-of-range", "linger.not-whole-seconds",
        "bind.missing-port", "bind.ipv6-needs-brackets", "bind.bad-port", "bind.host-name",
        "bind.leading-zero", "bind.named-scope", "bind.whitespace", "bind.wildcard", "bind.invalid",
        "bind.duplicate",
        "ip-mask.invalid", "ip-mask.prefix-too-short", "ip-mask.prefix-too-long",
        "ip-mask.unspecified-v4", "ip-mask.host-bits",
        "duration.invalid", "duration.compound", "duration.fraction", "duration.unknown-unit",
        "duration.out-of-range",
        "protocol.unknown", "tls.unknown-version", "tls.unknown-cipher",
        // cross-field
        "tls.all-versions-disabled", "tls.all-ciphers-disabled", "list.empty-inherits",
        "socket.backlog-clamped", "tls.port-convention",
    });
}

[[nodiscard]] inline bool is_known_diagnostic_code(std::string_view code) noexcept {
    constexpr auto codes = known_diagnostic_codes();
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

[[nodiscard]] inline bool has_errors(const std::vector<Diagnostic>& diagnostics) noexcept {
    return std::any_of(diagnostics.begin(), diagnostics.end(),
                       [](const Diagnostic& d) { return d.is_error(); });
}

/// Order for printing: by position, then path, errors before warnings.
inline void sort_diagnostics(std::vector<Diagnostic>& diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
        if (a.line != b.line) return a.line < b.line;
        if (a.column != b.column) return a.column < b.column;
        if (a.path != b.path) return a.path < b.path;
        return a.severity < b.severity;
    });
}

}  // namespace berth
