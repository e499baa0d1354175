#pragma once
// Conversion between the surfaces (SPEC §8): TOML → NetworkListener JSON (the migration to Stalwart
// 0.16) and JSON → TOML, lossless where the target can express a value, every loss reported.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/config/resolved_json.hpp"
#include "berth/config/text.hpp"
#include "berth/model/configuration.hpp"

namespace berth {

/// Something the target surface cannot say the way the source said it.
struct ConversionNote {
    std::string path;     ///< the source key or pointer
    std::string message;
};

struct Conversion {
    std::string text;
    std::vector<ConversionNote> notes;
};

/// `document`: sets as arrays, as the NetworkListener document shows them, plus berth's
/// `socketLinger` extension. `stalwart`: what Stalwart 0.16 sends and stores: sets as
/// `{"member": true}` objects, and no field Stalwart does not know.
enum class JsonWire : std::uint8_t { document, stalwart };

namespace detail {

inline nlohmann::ordered_json wire_value(const FieldValue& v, JsonWire wire) {
    auto plain = to_json_value(v);
    if (wire == JsonWire::stalwart && plain.is_array()) {
        nlohmann::ordered_json set = nlohmann::ordered_json::object();
        for (const auto& member : plain) set[member.get<std::string>()] = true;
        return set;
    }
    return plain;
}

inline std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                static constexpr char hex[] = "0123456789ABCDEF";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

template <class T, class Name>
std::string toml_list(const std::vector<T>& items, Name name) {
    std::vector<std::string> texts;
    for (const auto& i : items) texts.push_back(toml_string(name(i)));
    std::sort(texts.begin(), texts.end());
    std::string out = "[";
    for (std::size_t i = 0; i < texts.size(); ++i) out += (i ? ", " : "") + texts[i];
    return out + "]";
}

/// A value in TOML notation; empty for Unset (the key is then left out).
inline std::string toml_value(const FieldValue& v) {
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Unset>) return {};
            else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::uint64_t>) return std::to_string(x);
            else if constexpr (std::is_same_v<T, Duration>) return toml_string(x.to_string());
            else if constexpr (std::is_same_v<T, Protocol>) return toml_string(toml_name(x));
            else if constexpr (std::is_same_v<T, std::vector<SocketAddr>>)
                return toml_list(x, [](const SocketAddr& a) { return a.to_string(); });
            else if constexpr (std::is_same_v<T, std::vector<IpMask>>)
                return toml_list(x, [](const IpMask& m) { return m.to_string(); });
            else return toml_list(x, [](auto e) { return std::string(toml_name(e)); });
        },
        v);
}

/// The value a listener has for a field before built-in defaults: its own, else the server's.
inline const Setting* layered(const ListenerConfig& lc, const Layer& server, Field f) {
    const Setting* own = lc.layer.find(f);
    if (own && !own->is_empty_list()) return own;
    const Setting* srv = server.find(f);
    if (srv && !srv->is_empty_list()) return srv;
    return nullptr;
}

}  // namespace detail

/// TOML → NetworkListener JSON, in the wrapper shape `{maxConnections, proxyTrustedNetworks, listeners}`.
/// The configuration should be free of errors (check `resolve(config).valid()` first).
[[nodiscard]] inline Conversion to_json_text(const Configuration& config, JsonWire wire = JsonWire::document) {
    Conversion result;
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    for (Field f : {Field::max_connections, Field::proxy_trusted_networks})
        if (const Setting* s = config.server.find(f); s && !s->is_empty_list())
            doc[std::string(spec_of(f).json_system_name)] = detail::wire_value(s->value, wire);
    doc["listeners"] = nlohmann::ordered_json::array();
    std::vector<bool> pushed_down(field_count, false);
    for (const auto& lc : config.listeners) {
        nlohmann::ordered_json l;
        l["name"] = lc.name;
        for (const auto& spec : all_fields()) {
            const Field f = spec.field;
            const bool system_level = !spec.json_system_name.empty();
            const Setting* s = system_level ? lc.layer.find(f) : detail::layered(lc, config.server, f);
            if (!s || s->is_empty_list() || std::holds_alternative<Unset>(s->value)) continue;
            if (!spec.stalwart_json && wire == JsonWire::stalwart) {
                result.notes.push_back({s->source.path.str(), std::string(spec.toml_key) +
                                                            " has no NetworkListener field in Stalwart; dropped"});
                continue;
            }
            if (!spec.stalwart_json)
                result.notes.push_back({s->source.path.str(), std::string(spec.json_name) +
                                                            " is a berth extension that Stalwart does not read"});
            if (s != lc.layer.find(f) && !pushed_down[static_cast<std::size_t>(f)]) {
                pushed_down[static_cast<std::size_t>(f)] = true;
                result.notes.push_back({s->source.path.str(), "the server-wide " + s->source.path +
                                                            " has no system-level JSON field; it is written as " +
                                                            std::string(spec.json_name) + " on every listener"});
            }
            l[std::string(spec.json_input())] = detail::wire_value(s->value, wire);
        }
        doc["listeners"].push_back(std::move(l));
    }
    result.text = dump(doc) + "\n";
    return result;
}

/// NetworkListener JSON (any shape of SPEC §7) → Stalwart TOML. Every value is expressible.
[[nodiscard]] inline Conversion to_toml_text(const Configuration& config) {
    Conversion result;
    std::string out;
    std::string server_lines;
    for (const auto& spec : all_fields()) {
        const Setting* s = config.server.find(spec.field);
        if (!s || s->is_empty_list() || spec.toml_server_key.empty()) continue;
        const std::string value = detail::toml_value(s->value);
        if (!value.empty()) server_lines += std::string(spec.toml_server_key.substr(7)) + " = " + value + "\n";
    }
    if (!server_lines.empty()) out += "[server]\n" + server_lines + "\n";
    for (const auto& lc : config.listeners) {
        out += "[server.listener." + detail::toml_key_segment(lc.name) + "]\n";
        for (const auto& spec : all_fields()) {
            const Setting* s = lc.layer.find(spec.field);
            FieldValue value;
            if (s && !s->is_empty_list()) value = s->value;
            else if (spec.field == Field::protocol) value = Protocol::smtp;  // JSON's default, required in TOML
            else continue;
            const std::string text = detail::toml_value(value);
            if (!text.empty()) out += std::string(spec.toml_key) + " = " + text + "\n";
        }
        out += "\n";
    }
    if (!out.empty() && out.back() == '\n' && out.size() > 1 && out[out.size() - 2] == '\n') out.pop_back();
    result.text = std::move(out);
    return result;
}

}  // namespace berth
