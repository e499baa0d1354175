#pragma once
// Test helpers: resolve a text with a fixed somaxconn so results do not depend on the host.

#include <optional>
#include <string_view>

#include "berth/config/json_reader.hpp"
#include "berth/config/toml_reader.hpp"
#include "berth/model/resolve.hpp"

namespace berth::test {

inline ResolveOptions fixed_host() {
    ResolveOptions o;
    o.somaxconn = 4096;
    return o;
}

inline Resolution resolve_toml(std::string_view text, const ReadOptions& options = {}) {
    return resolve(read_toml(text, options), fixed_host());
}

inline Resolution resolve_json(std::string_view text) { return resolve(read_json(text), fixed_host()); }

/// The first diagnostic naming exactly this path, if any.
inline std::optional<Diagnostic> find_diagnostic(const Resolution& r, std::string_view path) {
    for (const auto& d : r.diagnostics)
        if (d.path == path) return d;
    return std::nullopt;
}

inline std::optional<Diagnostic> find_code(const Resolution& r, std::string_view code) {
    for (const auto& d : r.diagnostics)
        if (d.code == code) return d;
    return std::nullopt;
}

}  // namespace berth::test
