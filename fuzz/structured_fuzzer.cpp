// Fuzz target: configurations built from the fuzzer's bytes, to reach resolution and validation behind the parsers.
// The bytes choose (through FuzzedDataProvider) a surface, listeners, real keys of SPEC §1 (and near misses),
// and values from near-valid sets of each kind (boundary integers, valid and broken addresses, durations, names
// of protocols, TLS versions and suites in either spelling, wire-form sets, %{env:}% references), and the
// document's layout (table headers, dotted keys, inline tables; the four JSON shapes of SPEC §7). The document
// is then checked exactly like toml_resolve_fuzzer and json_resolve_fuzzer check theirs.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "configuration_properties.hpp"
#include "data_provider.hpp"

namespace {

using berth_fuzz::DataProvider;
using Json = nlohmann::ordered_json;

// ---- near-valid values, by kind ----

// clang-format off

constexpr std::string_view addresses[] = {
    "0.0.0.0:25", "[::]:25", "127.0.0.1:2525", "[::1]:465", "192.0.2.1:587", "[fe80::1%2]:993", "[2001:db8::2]:143",
    "127.0.0.1:0", "[::ffff:192.0.2.1]:110", "10.0.0.1:4190", "2001:db8::2", "127.0.0.1", "localhost:25", "*:25",
    "0.0.0.0:65536", "[::]:", " 0.0.0.0:25", "[fe80::1%eth0]:25", "01.2.3.4:25", "0.0.0.0:+25", "[127.0.0.1]:25", ":25",
    "25", "[::]:025", "[fe80::1%4294967296]:25", "%{env:BIND}%", "%{env:ADDR}%", "%{env:UNSET}%", "%{env:BIND",
    "0.0.0.0:%{env:PORT}%",
};
constexpr std::string_view hosts[] = {
    "0.0.0.0", "127.0.0.1", "192.0.2.1", "[::]", "[::1]", "[2001:db8::2]", "[fe80::1%2]", "[::ffff:10.0.0.1]",
    "10.1.2.3",
};
constexpr std::string_view ports[] = {"25", "465", "587", "993", "995", "143", "110", "4190", "0", "65535", "8080"};
constexpr std::string_view masks[] = {
    "10.0.0.0/8", "192.0.2.10", "2001:db8::/32", "::1", "0.0.0.0/0", "::/0", "10.1.2.3/8", "10.0.0.0/255.0.0.0",
    "fd00::/7", "10.0.0.0/33", "::/129", "1.2.3.4/ 8", " 10.0.0.0/8 ", "::ffff:10.0.0.1/104", "host.example", "0.0.0.0",
    "192.168.0.0/16", "%{env:NET}%", "10.0.0.0/", "::ffff:0:0/96", "fe80::1%2", "[::1]", "10.0.0.0/08",
};
constexpr std::string_view durations[] = {
    "1m", "30s", "0ms", "1500ms", "5s", "1h", "1d", "2147483647s", "2147483648s", "18446744073709551615ms",
    "18446744073709551616ms", "1.5s", "1m30s", "10 s", "-1s", "+5s", "1w", "5sec", "0", "60000", "s", "",
    "%{env:TIMEOUT}%", "1MS", "0s", "999ms",
};
constexpr std::string_view duration_units[] = {"ms", "s", "m", "h", "d", "MS", "w"};
constexpr std::string_view toml_protocols[] = {
    "smtp", "lmtp", "imap", "pop3", "managesieve", "http", "https", "SMTP", "ManageSieve", "manageSieve", "smtps",
    "ftp", "", "%{env:PROTO}%",
};
constexpr std::string_view json_protocols[] = {
    "smtp", "lmtp", "imap", "pop3", "manageSieve", "http", "managesieve", "https", "SMTP", "",
};
constexpr std::string_view toml_versions[] = {
    "TLSv1.2", "TLSv1.3", "0x0303", "0x0304", "tls12", "tls13", "TLSv1.1", "SSLv3", "tlsv1.2", "",
};
constexpr std::string_view json_versions[] = {"tls12", "tls13", "TLSv1.2", "tls11", "TLS12", ""};
constexpr std::string_view suites[] = {
    "TLS13_AES_256_GCM_SHA384", "TLS13_AES_128_GCM_SHA256", "TLS13_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "tls13-aes-256-gcm-sha384",
    "tls13-aes-128-gcm-sha256", "tls13-chacha20-poly1305-sha256", "tls-ecdhe-ecdsa-with-aes-256-gcm-sha384",
    "tls-ecdhe-ecdsa-with-aes-128-gcm-sha256", "tls-ecdhe-ecdsa-with-chacha20-poly1305-sha256",
    "tls-ecdhe-rsa-with-aes-256-gcm-sha384", "tls-ecdhe-rsa-with-aes-128-gcm-sha256",
    "tls-ecdhe-rsa-with-chacha20-poly1305-sha256", "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
};
constexpr std::int64_t integers[] = {
    1, 2, 16, 64, 255, 256, 1024, 4096, 4097, 8192, 65536, 2147483647, 2147483648, 4294967295, 4294967296, 0, -1, 60000,
    std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
};
constexpr std::string_view listener_names[] = {
    "smtp", "imap", "submissions", "mx.in", "", "a b", "http-admin", "ümlaut", "x\"y", "tab\there", "0", "-", "pop3s",
    "sieve",
};

// Keys that are not SPEC §1's but look like them: case slips, retired keys, typos, groups written as scalars.
constexpr std::string_view listener_key_misses[] = {
    "Protocol", "binds", "socket.backlogg", "socket", "tls", "proxy", "tls.certificate", "tls.ciphers", "tls.protocols",
    "socket.Backlog", "max-connection", "proxy.trusted-network", "tls.sni", "sockets.ttl",
};
constexpr std::string_view server_key_misses[] = {
    "socket.backlogg", "tls.ciphers", "max-connection", "proxy.trusted-network", "hostname", "socket", "tls",
    "listener", "Socket.backlog", "tls.enable.x",
};
constexpr std::string_view json_key_misses[] = {
    "proxyTrustedNetworks", "socketBacklogg", "Protocol", "tlsDisableCiphers", "linger", "useTLS", "id",
};

// clang-format on

template <class T, std::size_t N>
T pick(DataProvider& p, const T (&values)[N]) {
    return values[p.ConsumeIntegralInRange<std::size_t>(0, N - 1)];
}

/// Mostly a value from the list, sometimes a short string the fuzzer writes itself.
template <std::size_t N>
std::string text_from(DataProvider& p, const std::string_view (&values)[N]) {
    if (p.ConsumeIntegralInRange<int>(0, 7) == 0) return p.ConsumeRandomLengthString(24);
    return std::string(pick(p, values));
}

std::string address_text(DataProvider& p) {
    switch (p.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: return std::string(pick(p, hosts)) + ":" + std::string(pick(p, ports));
    case 1: return std::string(pick(p, hosts)) + ":" + std::to_string(p.ConsumeIntegral<std::uint16_t>());
    default: return text_from(p, addresses);
    }
}

/// A value of the wrong shape for whatever key it lands on.
Json stray_value(DataProvider& p) {
    switch (p.ConsumeIntegralInRange<int>(0, 6)) {
    case 0: return true;
    case 1: return -1;
    case 2: return 1.5;
    case 3: return Json::array();
    case 4: return Json{{"a", 1}};
    case 5: return nullptr;
    default: return p.ConsumeRandomLengthString(16);
    }
}

/// A list-valued field: an array, a lone scalar, or (JSON) Stalwart's `{"member": true}` wire form.
template <class Element>
Json list_value(DataProvider& p, berth::Surface surface, Element element) {
    const int layout = p.ConsumeIntegralInRange<int>(0, 5);
    const std::size_t count = p.ConsumeIntegralInRange<std::size_t>(0, 4);
    if (layout == 0) return element(p);
    if (layout == 1 && surface == berth::Surface::json) {
        Json set = Json::object();
        for (std::size_t i = 0; i < count; ++i) set[element(p)] = p.ConsumeIntegralInRange<int>(0, 5) != 0;
        return set;
    }
    Json list = Json::array();
    for (std::size_t i = 0; i < count; ++i) list.push_back(element(p));
    return list;
}

Json integer_value(DataProvider& p, const berth::FieldSpec& spec, berth::Surface surface) {
    std::int64_t n = p.ConsumeBool() ? pick(p, integers) : p.ConsumeIntegral<std::int64_t>();
    if (p.ConsumeIntegralInRange<int>(0, 3) == 0 && spec.max > 0)
        n = static_cast<std::int64_t>(p.ConsumeIntegralInRange<std::uint64_t>(spec.min, spec.max));
    switch (p.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: return std::to_string(n);  // TOML's "1024"; a wrong type in JSON
    case 1: return surface == berth::Surface::toml ? Json(false) : Json(nullptr);  // unset
    default: return n;
    }
}

Json duration_value(DataProvider& p, berth::Surface surface) {
    switch (p.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: return pick(p, integers);
    case 1: return surface == berth::Surface::toml ? Json(false) : Json(nullptr);
    case 2: return std::to_string(p.ConsumeIntegral<std::uint32_t>()) + std::string(pick(p, duration_units));
    default: return text_from(p, durations);
    }
}

Json value_for(DataProvider& p, const berth::FieldSpec& spec, berth::Surface surface) {
    const bool toml = surface == berth::Surface::toml;
    if (p.ConsumeIntegralInRange<int>(0, 15) == 0) return stray_value(p);
    switch (spec.kind) {
    case berth::ValueKind::boolean:
        switch (p.ConsumeIntegralInRange<int>(0, 5)) {
        case 0: return "true";
        case 1: return "false";
        case 2: return "yes";
        default: return p.ConsumeBool();
        }
    case berth::ValueKind::integer: return integer_value(p, spec, surface);
    case berth::ValueKind::duration:
    case berth::ValueKind::duration_seconds: return duration_value(p, surface);
    case berth::ValueKind::protocol: return toml ? text_from(p, toml_protocols) : text_from(p, json_protocols);
    case berth::ValueKind::socket_addr_list: return list_value(p, surface, address_text);
    case berth::ValueKind::tls_version_set:
        return list_value(p, surface, [toml](DataProvider& q) {
            return toml ? text_from(q, toml_versions) : text_from(q, json_versions);
        });
    case berth::ValueKind::cipher_suite_set:
        return list_value(p, surface, [](DataProvider& q) { return text_from(q, suites); });
    case berth::ValueKind::ip_mask_set:
        return list_value(p, surface, [](DataProvider& q) { return text_from(q, masks); });
    }
    return nullptr;
}

// ---- TOML ----

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string toml_key(std::string_view s) {
    const bool bare =
        !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                          std::string_view::npos;
    return bare ? std::string(s) : toml_string(s);
}

/// A value in TOML notation. TOML has no null: a null becomes an empty inline table, itself a wrong type.
std::string toml_value(const Json& v) {
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return v.dump();
    if (v.is_number_float()) return "1.5";
    if (v.is_string()) return toml_string(v.get<std::string>());
    if (v.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_value(v[i]);
        return out + "]";
    }
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
        out += (first ? " " : ", ") + toml_key(it.key()) + " = " + toml_value(*it);
        first = false;
    }
    return out + (first ? "}" : " }");
}

/// `key = value` lines for one table, never the same key twice (a TOML error the toml target covers already).
class TomlTable {
public:
    void add(std::string key, const Json& value) {
        if (!keys_.insert(key).second) return;
        lines_ += key + " = " + toml_value(value) + "\n";
    }
    [[nodiscard]] const std::string& lines() const noexcept { return lines_; }
    [[nodiscard]] std::string inline_form() const {
        std::string out = "{ ";
        bool first = true;
        for (std::size_t start = 0; start < lines_.size();) {
            const std::size_t end = lines_.find('\n', start);
            out += (first ? "" : ", ") + lines_.substr(start, end - start);
            first = false;
            start = end + 1;
        }
        return out + " }";
    }

private:
    std::set<std::string> keys_;
    std::string lines_;
};

std::string listener_key(DataProvider& p, const berth::FieldSpec*& spec) {
    if (p.ConsumeIntegralInRange<int>(0, 11) == 0) {
        spec = nullptr;
        return std::string(pick(p, listener_key_misses));
    }
    spec = &berth::all_fields()[p.ConsumeIntegralInRange<std::size_t>(0, berth::field_count - 1)];
    return std::string(spec->toml_key);
}

std::string build_toml(DataProvider& p) {
    std::string out;
    // Server-wide values: as dotted keys at the root, or under a [server] header.
    TomlTable server;
    const bool server_header = p.ConsumeBool();
    const std::size_t server_keys = p.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t i = 0; i < server_keys; ++i) {
        const berth::FieldSpec& spec =
            berth::all_fields()[p.ConsumeIntegralInRange<std::size_t>(0, berth::field_count - 1)];
        std::string key =
            spec.toml_server_key.empty() ? std::string("socket.backlog") : std::string(spec.toml_server_key.substr(7));
        if (p.ConsumeIntegralInRange<int>(0, 9) == 0) key = std::string(pick(p, server_key_misses));
        server.add(server_header ? key : "server." + key, value_for(p, spec, berth::Surface::toml));
    }
    if (server_header) out += "[server]\n";
    out += server.lines() + "\n";

    std::set<std::string> names;
    const std::size_t listeners = p.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t n = 0; n < listeners; ++n) {
        std::string name = text_from(p, listener_names);
        if (!names.insert(name).second && p.ConsumeIntegralInRange<int>(0, 3) != 0) continue;
        TomlTable table;
        // Most listeners get a bind and a protocol, so that resolution goes past the missing-value errors.
        if (p.ConsumeIntegralInRange<int>(0, 4) != 0)
            table.add("bind", value_for(p, berth::spec_of(berth::Field::bind), berth::Surface::toml));
        if (p.ConsumeIntegralInRange<int>(0, 4) != 0)
            table.add("protocol", value_for(p, berth::spec_of(berth::Field::protocol), berth::Surface::toml));
        const std::size_t keys = p.ConsumeIntegralInRange<std::size_t>(0, 8);
        for (std::size_t k = 0; k < keys; ++k) {
            const berth::FieldSpec* spec = nullptr;
            std::string key = listener_key(p, spec);
            table.add(std::move(key), spec ? value_for(p, *spec, berth::Surface::toml) : stray_value(p));
        }
        const std::string header = "server.listener." + toml_key(name);
        switch (p.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: out += header + " = " + table.inline_form() + "\n"; break;
        case 1: out += header + " = " + toml_value(stray_value(p)) + "\n"; break;  // not a table
        default: out += "\n[" + header + "]\n" + table.lines(); break;
        }
    }
    return out;
}

// ---- JSON ----

Json json_listener(DataProvider& p, std::set<std::string>& names) {
    Json l = Json::object();
    switch (p.ConsumeIntegralInRange<int>(0, 11)) {
    case 0: break;  // no name
    case 1: l["name"] = stray_value(p); break;
    default: {
        std::string name = text_from(p, listener_names);
        if (!names.insert(name).second && p.ConsumeIntegralInRange<int>(0, 3) != 0)
            name += std::to_string(names.size());
        l["name"] = name;
    }
    }
    if (p.ConsumeIntegralInRange<int>(0, 4) != 0)
        l["bind"] = value_for(p, berth::spec_of(berth::Field::bind), berth::Surface::json);
    if (p.ConsumeBool()) l["protocol"] = value_for(p, berth::spec_of(berth::Field::protocol), berth::Surface::json);
    const std::size_t keys = p.ConsumeIntegralInRange<std::size_t>(0, 8);
    for (std::size_t k = 0; k < keys; ++k) {
        if (p.ConsumeIntegralInRange<int>(0, 11) == 0) {
            l[std::string(pick(p, json_key_misses))] = stray_value(p);
            continue;
        }
        const auto& spec = berth::all_fields()[p.ConsumeIntegralInRange<std::size_t>(0, berth::field_count - 1)];
        l[std::string(spec.json_input())] = value_for(p, spec, berth::Surface::json);
    }
    return l;
}

std::string build_json(DataProvider& p) {
    std::set<std::string> names;
    Json listeners = Json::array();
    const std::size_t count = p.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t i = 0; i < count; ++i)
        listeners.push_back(p.ConsumeIntegralInRange<int>(0, 15) == 0 ? stray_value(p) : json_listener(p, names));

    Json document;
    switch (p.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: document = listeners.empty() ? Json::object() : listeners[0]; break;  // one object
    case 1: document = std::move(listeners); break;                               // an array
    case 2: {                                                                     // the wrapper
        document = Json::object();
        if (p.ConsumeBool())
            document["maxConnections"] =
                integer_value(p, berth::spec_of(berth::Field::max_connections), berth::Surface::json);
        if (p.ConsumeBool())
            document["proxyTrustedNetworks"] =
                value_for(p, berth::spec_of(berth::Field::proxy_trusted_networks), berth::Surface::json);
        if (p.ConsumeIntegralInRange<int>(0, 7) == 0) document[std::string(pick(p, json_key_misses))] = stray_value(p);
        document["listeners"] = std::move(listeners);
        break;
    }
    default: {  // a JMAP response
        Json get =
            Json::array({"x:NetworkListener/get", Json{{"accountId", "a"}, {"list", std::move(listeners)}}, "c0"});
        Json responses = Json::array();
        if (p.ConsumeIntegralInRange<int>(0, 3) == 0)
            responses.push_back(Json::array({"Core/echo", Json::object(), "c1"}));
        responses.push_back(std::move(get));
        document = Json{{"methodResponses", std::move(responses)}};
    }
    }
    return document.dump(p.ConsumeBool() ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    DataProvider provider(data, size);
    if (provider.ConsumeBool())
        berth_fuzz::check_json_document(build_json(provider));
    else
        berth_fuzz::check_toml_document(build_toml(provider));
    return 0;
}
