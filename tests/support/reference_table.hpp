#pragma once
// The key reference table of docs/reference.md, generated from the model's field table so the
// documentation cannot drift from the code.

#include <string>

#include "berth/model/field.hpp"

namespace berth::test {

inline std::string kind_text(const FieldSpec& s) {
    switch (s.kind) {
    case ValueKind::boolean: return "bool";
    case ValueKind::integer: return s.nullable ? "integer or unset" : "integer";
    case ValueKind::duration: return "Duration";
    case ValueKind::duration_seconds: return "Duration (whole seconds) or unset";
    case ValueKind::protocol: return "Protocol";
    case ValueKind::socket_addr_list: return "SocketAddr, one or many";
    case ValueKind::tls_version_set: return "set of TlsVersion";
    case ValueKind::cipher_suite_set: return "set of TlsCipherSuite";
    case ValueKind::ip_mask_set: return "set of IpMask";
    }
    return "?";
}

inline std::string constraint_text(const FieldSpec& s) {
    switch (s.kind) {
    case ValueKind::integer: return std::to_string(s.min) + ".." + std::to_string(s.max);
    case ValueKind::duration: return "> 0";
    case ValueKind::duration_seconds: return "whole seconds, >= 0";
    case ValueKind::socket_addr_list: return "at least 1";
    case ValueKind::tls_version_set: return "not every version";
    case ValueKind::cipher_suite_set: return "not every suite of an enabled version";
    case ValueKind::ip_mask_set: return "prefix >= 8, no 0.0.0.0";
    default: return "";
    }
}

inline std::string code(std::string_view s) { return s.empty() ? "—" : "`" + std::string(s) + "`"; }

/// The Markdown table, one row per field, in the order of SPEC §1.
inline std::string reference_table() {
    std::string out = "| field (JSON) | TOML key (listener) | TOML key (server-wide) | JSON system-level | type | "
                      "default | constraint | falls back to |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& s : all_fields()) {
        std::string json = code(s.json_name);
        if (!s.json_input_name.empty()) json += " (input: " + code(s.json_input_name) + ")";
        if (!s.stalwart_json) json += " (berth extension)";
        std::string fallback = s.toml_server_key.empty() ? std::string("built-in default")
                                                         : code(s.toml_server_key) + ", then built-in default";
        if (s.field == Field::bind) fallback = "— (required)";
        if (s.field == Field::protocol) fallback = "TOML: — (required); JSON: `smtp`";
        out += "| " + json + " | " + code(s.toml_key) + " | " + code(s.toml_server_key) + " | " +
               code(s.json_system_name) + " | " + kind_text(s) + " | `" + std::string(s.default_text) + "` | " +
               constraint_text(s) + " | " + fallback + " |\n";
    }
    return out;
}

}  // namespace berth::test
