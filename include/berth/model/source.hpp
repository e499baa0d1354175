#pragma once
// Where a value came from: a TOML key or JSON pointer with its line and column, or the built-in default.

#include <cstdint>
#include <string_view>

#include "berth/model/shared_text.hpp"

namespace berth {

struct Source {
    /// Full TOML key or JSON pointer; empty for the built-in default. Shared, not copied: every listener
    /// that inherits a server-wide value points at the same text.
    SharedText path;
    std::uint32_t line = 0;    ///< 1-based; 0 when unknown (defaults, values built in code)
    std::uint32_t column = 0;  ///< 1-based, in code points

    [[nodiscard]] bool is_default() const noexcept { return path.empty(); }

    /// What §6 prints in `provenance`: the path, or `default`.
    [[nodiscard]] std::string_view describe() const noexcept {
        return is_default() ? std::string_view{"default"} : path.view();
    }

    friend bool operator==(const Source&, const Source&) = default;
};

}  // namespace berth
