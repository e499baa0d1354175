#pragma once
// Options shared by the TOML and JSON readers.

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

struct ReadOptions {
    /// Looks up `%{env:NAME}%` variables. Empty: the process environment.
    std::function<std::optional<std::string>(std::string_view)> environment;

    [[nodiscard]] std::optional<std::string> lookup(std::string_view name) const {
        if (environment) return environment(name);
        const std::string key(name);
        if (const char* v = std::getenv(key.c_str())) return std::string(v);
        return std::nullopt;
    }
};

}  // namespace berth
