#pragma once
// A configuration as read from either surface, before resolution: the server-wide layer and one
// layer per listener, each value with its source.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "berth/model/diagnostic.hpp"
#include "berth/model/duration.hpp"
#include "berth/model/field.hpp"
#include "berth/model/ip_mask.hpp"
#include "berth/model/protocol.hpp"
#include "berth/model/socket_addr.hpp"
#include "berth/model/source.hpp"
#include "berth/model/tls.hpp"

namespace berth {

/// An explicit "unset, leave it to the OS" (`false` in TOML for an optional value, `null` in JSON).
struct Unset {
    friend bool operator==(Unset, Unset) noexcept { return true; }
};

using FieldValue = std::variant<Unset, bool, std::uint64_t, Duration, Protocol, std::vector<SocketAddr>,
                                std::vector<TlsVersion>, std::vector<TlsCipherSuite>, std::vector<IpMask>>;

/// One value as written, with where it was written.
struct Setting {
    FieldValue value;
    Source source;
    std::vector<Source> element_sources;  ///< for lists: one per element, in order
    bool written_as_list = false;         ///< false when a list key held one scalar

    /// An empty list means "inherit" on both surfaces (SPEC §3).
    [[nodiscard]] bool is_empty_list() const noexcept {
        return std::visit(
            [](const auto& v) {
                if constexpr (requires { v.empty(); }) return v.empty();
                else return false;
            },
            value);
    }
};

class Layer {
public:
    void set(Field f, Setting s) { settings_[static_cast<std::size_t>(f)] = std::move(s); }
    void erase(Field f) { settings_[static_cast<std::size_t>(f)].reset(); }
    [[nodiscard]] const Setting* find(Field f) const noexcept {
        const auto& s = settings_[static_cast<std::size_t>(f)];
        return s ? &*s : nullptr;
    }
    [[nodiscard]] bool empty() const noexcept {
        for (const auto& s : settings_)
            if (s) return false;
        return true;
    }
    /// The field was written but its value was rejected (an error is already reported): resolution
    /// neither falls back past it nor reports it missing.
    void mark_invalid(Field f) noexcept { invalid_[static_cast<std::size_t>(f)] = true; }
    [[nodiscard]] bool is_invalid(Field f) const noexcept { return invalid_[static_cast<std::size_t>(f)]; }

private:
    std::array<std::optional<Setting>, field_count> settings_{};
    std::array<bool, field_count> invalid_{};
};

enum class Surface : std::uint8_t { toml, json };

struct ListenerConfig {
    std::string name;
    Source source;  ///< where the listener is declared (table header, or the JSON object)
    Layer layer;
    std::string path_prefix;  ///< `server.listener.smtp.` or `/listeners/0/`
};

struct Configuration {
    Surface surface = Surface::toml;
    Layer server;                          ///< server-wide (TOML) or system-level (JSON) values
    std::vector<ListenerConfig> listeners;
    std::vector<Diagnostic> diagnostics;   ///< what reading found; resolution adds its own
};

}  // namespace berth
