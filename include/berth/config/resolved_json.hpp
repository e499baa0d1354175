#pragma once
// The resolved-output document of SPEC §6: what `berth resolve` prints and conformance compares.

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/model/resolve.hpp"

namespace berth {

namespace detail {

template <class T>
nlohmann::ordered_json sorted_names(const std::vector<T>& items) {
    std::vector<std::string> names;
    names.reserve(items.size());
    for (const auto& i : items) names.push_back(canonical_text(i));
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace detail

/// A field's value as §6 prints it (JSON names, milliseconds, sorted canonical lists, null when unset).
[[nodiscard]] inline nlohmann::ordered_json to_json_value(const FieldValue& v) {
    return std::visit(
        [](const auto& x) -> nlohmann::ordered_json {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Unset>) return nullptr;
            else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::uint64_t>) return x;
            else if constexpr (std::is_same_v<T, Duration>) return x.milliseconds();
            else if constexpr (std::is_same_v<T, Protocol>) return std::string(json_name(x));
            else return detail::sorted_names(x);
        },
        v);
}

[[nodiscard]] inline nlohmann::ordered_json to_json(const ResolvedListener& l, bool with_provenance = true) {
    nlohmann::ordered_json out;
    out["name"] = l.name;
    for (const auto& spec : all_fields()) out[std::string(spec.json_name)] = to_json_value(field_value(l, spec.field));
    if (with_provenance) {
        nlohmann::ordered_json provenance = nlohmann::ordered_json::object();
        for (const auto& spec : all_fields())
            provenance[std::string(spec.json_name)] = std::string(l.source_of(spec.field).describe());
        out["provenance"] = std::move(provenance);
    }
    return out;
}

[[nodiscard]] inline nlohmann::ordered_json to_json(const Diagnostic& d) {
    nlohmann::ordered_json out;
    out["severity"] = std::string(to_string(d.severity));
    out["code"] = d.code;
    out["path"] = d.path;
    out["line"] = d.line;
    out["column"] = d.column;
    out["message"] = d.message;
    if (!d.hint.empty()) out["hint"] = d.hint;
    return out;
}

[[nodiscard]] inline nlohmann::ordered_json to_json(const Resolution& r, bool with_provenance = true) {
    nlohmann::ordered_json out;
    out["listeners"] = nlohmann::ordered_json::array();
    for (const auto& l : r.listeners) out["listeners"].push_back(to_json(l, with_provenance));
    out["diagnostics"] = nlohmann::ordered_json::array();
    for (const auto& d : r.diagnostics) out["diagnostics"].push_back(to_json(d));
    return out;
}

/// Serialises without ever throwing on invalid UTF-8 that made it into a name or message.
[[nodiscard]] inline std::string dump(const nlohmann::ordered_json& j, int indent = 2) {
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace berth
