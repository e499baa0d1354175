#pragma once
// A configuration as read from either surface, before resolution: the server-wide layer and one
// layer per listener, each value with its source.

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

enum class Surface : std::uint8_t { toml, json };

/// Where one element of a list was written. Its key is the list's key followed by the element's index
/// (`bind[1]` in TOML, `/bind/1` in JSON) or, in JSON's object form of a set, by its member name. The key
/// is put together by Setting::element_source when something asks for it: a configuration of thousands of
/// listeners has thousands of elements, and diagnostics name few of them.
struct ElementSource {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    SharedText member;  ///< the member's JSON pointer token in the object form of a set; empty otherwise

    friend bool operator==(const ElementSource&, const ElementSource&) = default;
};

/// The full source of element `index` of the list written at `list`.
[[nodiscard]] inline Source element_source(const Source& list, const ElementSource& element, std::size_t index,
                                           Surface surface) {
    char digits[24];
    std::string_view key = element.member.view();
    if (key.empty()) {
        const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
        key = std::string_view(digits, static_cast<std::size_t>(end - digits));
    }
    SharedText path = surface == Surface::toml ? SharedText::concat({list.path.view(), "[", key, "]"})
                                               : SharedText::concat({list.path.view(), "/", key});
    return Source{std::move(path), element.line, element.column};
}

/// One value as written, with where it was written.
struct Setting {
    FieldValue value;
    Source source;
    std::vector<ElementSource> element_sources;  ///< for lists written as lists: one per element, in order
    bool written_as_list = false;                ///< false when a list key held one scalar

    /// Where element `index` was written: its own key and position, or the setting's source when the
    /// list was written as one scalar.
    [[nodiscard]] Source element_source(std::size_t index, Surface surface) const {
        if (!written_as_list || index >= element_sources.size()) return source;
        return berth::element_source(source, element_sources[index], index, surface);
    }

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
    void set(Field f, Setting s) {
        auto& slot = slot_[static_cast<std::size_t>(f)];
        if (slot != 0) {
            settings_[slot - 1] = std::move(s);
            return;
        }
        if (settings_.empty()) settings_.reserve(4);  // most layers set a handful of fields
        settings_.push_back(std::move(s));
        slot = static_cast<std::uint8_t>(settings_.size());
    }
    void erase(Field f) {
        auto& slot = slot_[static_cast<std::size_t>(f)];
        if (slot == 0) return;
        const auto removed = slot;
        settings_.erase(settings_.begin() + (removed - 1));
        slot = 0;
        for (auto& other : slot_)
            if (other > removed) --other;
    }
    [[nodiscard]] const Setting* find(Field f) const noexcept {
        const auto slot = slot_[static_cast<std::size_t>(f)];
        return slot != 0 ? &settings_[slot - 1] : nullptr;
    }
    [[nodiscard]] Setting* find(Field f) noexcept {
        const auto slot = slot_[static_cast<std::size_t>(f)];
        return slot != 0 ? &settings_[slot - 1] : nullptr;
    }
    [[nodiscard]] bool empty() const noexcept { return settings_.empty(); }
    /// The field was written but its value was rejected (an error is already reported): resolution
    /// neither falls back past it nor reports it missing.
    void mark_invalid(Field f) noexcept { invalid_[static_cast<std::size_t>(f)] = true; }
    [[nodiscard]] bool is_invalid(Field f) const noexcept { return invalid_[static_cast<std::size_t>(f)]; }

private:
    // Only the fields written are stored: a configuration can have thousands of layers, and one slot
    // per field for each would be mostly empty memory to allocate, clear and move.
    std::vector<Setting> settings_;               // in the order first set
    static_assert(field_count < 256, "a slot is one byte");
    std::array<std::uint8_t, field_count> slot_{};  // index + 1 into settings_; 0 when not set
    std::array<bool, field_count> invalid_{};
};

struct ListenerConfig {
    std::string name;
    Source source;  ///< where the listener is declared (table header, or the JSON object)
    Layer layer;
    /// The listener's own key or JSON pointer, which the keys of its fields extend (`.bind`, `/bind`):
    /// `server.listener.smtp`, `/listeners/0`, or empty when a JSON document is one listener object. In
    /// TOML the same text as source.path, shared.
    SharedText path;
};

struct Configuration {
    Surface surface = Surface::toml;
    Layer server;                          ///< server-wide (TOML) or system-level (JSON) values
    std::vector<ListenerConfig> listeners;
    std::vector<Diagnostic> diagnostics;   ///< what reading found; resolution adds its own
};

}  // namespace berth
