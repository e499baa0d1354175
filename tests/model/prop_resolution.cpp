// Properties of resolution (SPEC §3) and conversion (SPEC §8) over generated configurations.
#include "berth/model/resolve.hpp"

#include "support/rapidcheck_catch.hpp"

#include <map>
#include <string>
#include <vector>

#include "berth/config/convert.hpp"
#include "support/resolve_helpers.hpp"

using namespace berth;

namespace {

/// One valid TOML value for a field, with the FieldValue it must resolve to.
struct Sample {
    std::string toml;
    FieldValue value;
};

rc::Gen<Sample> sample_for(Field f) {
    const auto& spec = spec_of(f);
    switch (spec.kind) {
    case ValueKind::boolean:
        return rc::gen::map(rc::gen::arbitrary<bool>(),
                            [](bool b) { return Sample{b ? "true" : "\"false\"", FieldValue{b}}; });
    case ValueKind::integer:
        return rc::gen::map(rc::gen::inRange<std::uint64_t>(spec.min, std::min<std::uint64_t>(spec.max, 100000) + 1),
                            [](std::uint64_t v) {
                                // Stalwart writes numbers as strings as often as natively (SPEC §2.6).
                                return Sample{v % 2 ? std::to_string(v) : "\"" + std::to_string(v) + "\"", FieldValue{v}};
                            });
    case ValueKind::duration:
        return rc::gen::map(rc::gen::inRange<std::uint64_t>(1, 5000), [](std::uint64_t s) {
            return Sample{"\"" + std::to_string(s) + "s\"", FieldValue{Duration::from_milliseconds(s * 1000)}};
        });
    case ValueKind::duration_seconds:
        return rc::gen::oneOf(
            rc::gen::just(Sample{"false", FieldValue{Unset{}}}),
            rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 600), [](std::uint64_t s) {
                return Sample{"\"" + std::to_string(s) + "s\"", FieldValue{Duration::from_milliseconds(s * 1000)}};
            }));
    case ValueKind::protocol:
        return rc::gen::map(rc::gen::elementOf(std::vector<Protocol>(all_protocols().begin(), all_protocols().end())),
                            [](Protocol p) { return Sample{"\"" + std::string(toml_name(p)) + "\"", FieldValue{p}}; });
    case ValueKind::tls_version_set:
        return rc::gen::map(rc::gen::elementOf(std::vector<TlsVersion>(all_tls_versions().begin(), all_tls_versions().end())),
                            [](TlsVersion v) {
                                return Sample{"[\"" + std::string(toml_name(v)) + "\"]", FieldValue{std::vector{v}}};
                            });
    case ValueKind::cipher_suite_set:
        return rc::gen::map(rc::gen::elementOf(std::vector<TlsCipherSuite>(all_cipher_suites().begin(), all_cipher_suites().end())),
                            [](TlsCipherSuite c) {
                                return Sample{"\"" + std::string(toml_name(c)) + "\"", FieldValue{std::vector{c}}};
                            });
    case ValueKind::ip_mask_set:
        return rc::gen::map(rc::gen::inRange(8, 33), [](int prefix) {
            const std::string text = "10.0.0.0/" + std::to_string(prefix);
            return Sample{"[\"" + text + "\"]", FieldValue{std::vector{*IpMask::parse(text)}}};
        });
    case ValueKind::socket_addr_list: break;
    }
    return rc::gen::just(Sample{});
}

struct Layered {
    std::map<Field, Sample> server;
    std::vector<std::map<Field, Sample>> listeners;  // bind and protocol always set
};

bool server_level(Field f) { return !spec_of(f).toml_server_key.empty(); }

rc::Gen<Layered> layered_configuration() {
    return rc::gen::exec([] {
        Layered c;
        for (const auto& spec : all_fields()) {
            if (!server_level(spec.field)) continue;
            if (*rc::gen::arbitrary<bool>()) c.server[spec.field] = *sample_for(spec.field);
        }
        const auto count = *rc::gen::inRange(1, 4);
        for (int i = 0; i < count; ++i) {
            std::map<Field, Sample> l;
            l[Field::bind] = Sample{"\"127.0.0." + std::to_string(i + 1) + ":2525\"",
                                    FieldValue{std::vector{*SocketAddr::parse("127.0.0." + std::to_string(i + 1) + ":2525")}}};
            l[Field::protocol] = *sample_for(Field::protocol);
            for (const auto& spec : all_fields()) {
                if (spec.field == Field::bind || spec.field == Field::protocol) continue;
                if (*rc::gen::arbitrary<bool>()) l[spec.field] = *sample_for(spec.field);
            }
            c.listeners.push_back(std::move(l));
        }
        return c;
    });
}

std::string to_toml(const Layered& c) {
    std::string out = "[server]\n";
    for (const auto& [f, s] : c.server) out += std::string(spec_of(f).toml_server_key.substr(7)) + " = " + s.toml + "\n";
    for (std::size_t i = 0; i < c.listeners.size(); ++i) {
        out += "\n[server.listener.l" + std::to_string(i) + "]\n";
        for (const auto& [f, s] : c.listeners[i]) out += std::string(spec_of(f).toml_key) + " = " + s.toml + "\n";
    }
    return out;
}

/// The configuration breaks a cross-field rule (TLS versions or suites), so it may be invalid.
bool breaks_tls_rules(const ResolvedListener& l) {
    if (!l.version_enabled(TlsVersion::tls12) && !l.version_enabled(TlsVersion::tls13)) return true;
    return false;
}

}  // namespace

TEST_CASE("resolution law: listener value, else server value, else built-in default", "[prop][resolve]") {
    rc::prop("each field and its provenance follow SPEC §3", [] {
        const Layered c = *layered_configuration();
        const std::string text = to_toml(c);
        RC_LOG() << text;
        const Resolution r = berth::test::resolve_toml(text);
        for (std::size_t i = 0; i < c.listeners.size(); ++i) {
            const std::string name = "l" + std::to_string(i);
            const ResolvedListener* l = r.find(name);
            if (!l) {
                // Only a cross-field TLS rule can refuse a listener built from valid values.
                RC_ASSERT(!r.valid());
                continue;
            }
            for (const auto& spec : all_fields()) {
                const Field f = spec.field;
                FieldValue expected = default_value(f);
                std::string expected_path;
                if (auto it = c.listeners[i].find(f); it != c.listeners[i].end()) {
                    expected = it->second.value;
                    expected_path = "server.listener." + name + "." + std::string(spec.toml_key);
                } else if (auto s = c.server.find(f); s != c.server.end()) {
                    expected = s->second.value;
                    expected_path = std::string(spec.toml_server_key);
                }
                RC_ASSERT(to_json_value(field_value(*l, f)) == to_json_value(expected));
                RC_ASSERT(l->source_of(f).path == expected_path);
            }
            RC_ASSERT(!breaks_tls_rules(*l));
        }
    });
}

TEST_CASE("conversion keeps the resolved listeners", "[prop][convert]") {
    rc::prop("TOML -> JSON -> TOML", [] {
        const std::string text = to_toml(*layered_configuration());
        const Configuration toml = read_toml(text);
        const Resolution original = resolve(toml, berth::test::fixed_host());
        RC_PRE(original.valid());
        for (auto wire : {JsonWire::document, JsonWire::stalwart}) {
            const Conversion json = to_json_text(toml, wire);
            const Configuration via_json = read_json(json.text);
            const Resolution from_json = resolve(via_json, berth::test::fixed_host());
            if (wire == JsonWire::stalwart) {
                // socket.linger has no Stalwart field: it is dropped and reported, everything else stays.
                RC_ASSERT(from_json.valid());
                RC_ASSERT(from_json.listeners.size() == original.listeners.size());
                for (std::size_t i = 0; i < original.listeners.size(); ++i) {
                    ResolvedListener a = original.listeners[i];
                    a.socket_linger = from_json.listeners[i].socket_linger;
                    RC_ASSERT(a.same_values(from_json.listeners[i]));
                }
                continue;
            }
            RC_ASSERT(from_json.valid());
            RC_ASSERT(from_json.listeners.size() == original.listeners.size());
            for (std::size_t i = 0; i < original.listeners.size(); ++i)
                RC_ASSERT(original.listeners[i].same_values(from_json.listeners[i]));
            const Conversion back = to_toml_text(via_json);
            const Resolution round = resolve(read_toml(back.text), berth::test::fixed_host());
            RC_ASSERT(round.valid());
            RC_ASSERT(round.listeners.size() == original.listeners.size());
            for (std::size_t i = 0; i < original.listeners.size(); ++i)
                RC_ASSERT(original.listeners[i].same_values(round.listeners[i]));
        }
    });
    rc::prop("JSON -> TOML -> JSON", [] {
        const std::string text = to_toml(*layered_configuration());
        const Configuration json = read_json(to_json_text(read_toml(text)).text);
        const Resolution original = resolve(json, berth::test::fixed_host());
        RC_PRE(original.valid());
        const Configuration toml = read_toml(to_toml_text(json).text);
        const Configuration back = read_json(to_json_text(toml).text);
        const Resolution round = resolve(back, berth::test::fixed_host());
        RC_ASSERT(round.valid());
        RC_ASSERT(round.listeners.size() == original.listeners.size());
        for (std::size_t i = 0; i < original.listeners.size(); ++i)
            RC_ASSERT(original.listeners[i].same_values(round.listeners[i]));
    });
}

TEST_CASE("any generated configuration resolves without throwing, valid or with an error", "[prop][resolve]") {
    const std::vector<std::string> keys = [] {
        std::vector<std::string> k;
        for (const auto& s : all_fields()) {
            k.push_back("server.listener.a." + std::string(s.toml_key));
            k.push_back("server.listener.b." + std::string(s.toml_key));
            if (!s.toml_server_key.empty()) k.push_back(std::string(s.toml_server_key));
        }
        k.push_back("server.listener.a.Protocol");
        return k;
    }();
    const std::vector<std::string> values{"0", "1", "-1", "255", "256", "true", "false", "\"true\"", "\"1s\"", "\"1m30s\"",
                                          "\"[::]:25\"", "\"127.0.0.1:25\"", "\"2001:db8::2\"", "[]", "[\"TLSv1.2\", \"TLSv1.3\"]",
                                          "\"smtp\"", "\"HTTPS\"", "\"0.0.0.0/0\"", "\"10.1.2.3/8\"", "99999999999999999999",
                                          "1.5", "{a = 1}", "\"%{env:BERTH_SURELY_UNSET}%\""};
    rc::prop("resolve(read_toml(text)) is total", [&] {
        const auto lines = *rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
            rc::gen::pair(rc::gen::elementOf(keys), rc::gen::elementOf(values)));
        std::map<std::string, std::string> unique(lines.begin(), lines.end());  // TOML forbids redefinition
        std::string text;
        for (const auto& [k, v] : unique) text += k + " = " + v + "\n";
        // Dotted keys that make a key both a table and a value are syntax errors: also fine.
        const Resolution r = berth::test::resolve_toml(text);
        for (const auto& d : r.diagnostics) RC_ASSERT(is_known_diagnostic_code(d.code));
        if (!r.valid()) RC_ASSERT(has_errors(r.diagnostics));
        for (const auto& l : r.listeners) RC_ASSERT(!l.bind.empty());
    });
}
