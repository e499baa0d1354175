#pragma once
// The JSON surface: NetworkListener objects in the four shapes of SPEC §7, sets as arrays or as
// Stalwart's `{"member": true}` wire form, durations as milliseconds or strings.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "berth/config/json_locator.hpp"
#include "berth/config/read_options.hpp"
#include "berth/config/text.hpp"
#include "berth/config/value_reader.hpp"
#include "berth/model/configuration.hpp"
#include "berth/model/suggest.hpp"

namespace berth {

namespace detail {

/// Deeper documents are refused before parsing: no listener object needs more than a handful of levels.
inline constexpr std::size_t json_max_depth = 64;

/// Captures nlohmann-json's syntax error without exceptions.
struct JsonErrorCatcher : nlohmann::json_sax<nlohmann::json> {
    std::size_t byte = 0;
    std::string message;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        byte = position;
        message = ex.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error while parsing ..."
        if (const auto colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
        return false;
    }
};

class JsonReader {
public:
    JsonReader(std::string_view text, Configuration& config)
        : text_(text), config_(config), values_(Surface::json, config.diagnostics) {}

    void read(const nlohmann::json& root) {
        locator_.emplace(text_);
        if (root.is_array()) {
            read_listener_array(root, "");
        } else if (root.is_object() && root.contains("methodResponses")) {
            read_jmap(root);
        } else if (root.is_object() && root.contains("listeners")) {
            read_wrapper(root);
        } else if (root.is_object()) {
            read_listener(root, "");
        } else {
            values_.error("json.shape", at(""), "expected a NetworkListener object, an array of them, "
                                                "{\"listeners\": [...]} or a JMAP response",
                          "for example: {\"name\": \"smtp\", \"bind\": [\"[::]:25\"], \"protocol\": \"smtp\"}");
        }
        if (config_.listeners.empty() && !has_errors(config_.diagnostics))
            values_.warning("config.no-listeners", at(""), "the document defines no listener");
    }

private:
    std::string_view text_;
    Configuration& config_;
    ValueReader values_;
    std::optional<JsonLocator> locator_;
    std::set<std::string> names_;

    Source at(const std::string& pointer) const {
        const auto p = locator_->value_at(pointer);
        return Source{pointer, p.line, p.column};
    }
    Source key_at(const std::string& pointer) const {
        const auto p = locator_->key_at(pointer);
        return Source{pointer, p.line, p.column};
    }

    void unknown_property(const std::string& pointer, const std::string& name,
                          const std::vector<std::string_view>& candidates) {
        std::string hint;
        if (auto s = did_you_mean(name, candidates)) hint = "did you mean \"" + std::string(*s) + "\"?";
        else {
            hint = "known properties:";
            for (auto c : candidates) hint += " " + std::string(c);
        }
        values_.error("json.unknown-property", key_at(pointer), "unknown property " + detail::quote_text(name),
                      std::move(hint));
    }

    void read_jmap(const nlohmann::json& root) {
        const auto& responses = root["methodResponses"];
        bool found = false;
        if (responses.is_array()) {
            for (std::size_t i = 0; i < responses.size(); ++i) {
                const auto& r = responses[i];
                if (!r.is_array() || r.size() < 2 || !r[0].is_string() || r[0] != "x:NetworkListener/get") continue;
                const std::string base = "/methodResponses/" + std::to_string(i) + "/1";
                if (!r[1].is_object() || !r[1].contains("list") || !r[1]["list"].is_array()) {
                    values_.error("json.shape", at(base), "an x:NetworkListener/get response needs a \"list\" array");
                    continue;
                }
                found = true;
                read_listener_array(r[1]["list"], base + "/list");
            }
        }
        if (!found)
            values_.error("json.shape", at("/methodResponses"), "no x:NetworkListener/get response in methodResponses",
                          "fetch the listeners with x:NetworkListener/get");
    }

    void read_wrapper(const nlohmann::json& root) {
        static const std::vector<std::string_view> allowed{"maxConnections", "proxyTrustedNetworks", "listeners"};
        for (auto it = root.begin(); it != root.end(); ++it) {
            const std::string pointer = "/" + json_pointer_token(it.key());
            if (it.key() == "listeners") {
                if (it->is_array()) read_listener_array(*it, pointer);
                else values_.error("json.shape", at(pointer), "\"listeners\" must be an array of NetworkListener objects");
            } else if (it.key() == "maxConnections") {
                read_field(config_.server, spec_of(Field::max_connections), *it, pointer);
            } else if (it.key() == "proxyTrustedNetworks") {
                read_field(config_.server, spec_of(Field::proxy_trusted_networks), *it, pointer);
            } else {
                unknown_property(pointer, it.key(), allowed);
            }
        }
    }

    void read_listener_array(const nlohmann::json& list, const std::string& base) {
        for (std::size_t i = 0; i < list.size(); ++i) read_listener(list[i], base + "/" + std::to_string(i));
    }

    static const std::vector<std::string_view>& listener_properties() {
        static const std::vector<std::string_view> names = [] {
            std::vector<std::string_view> v{"name", "id"};
            for (const auto& s : all_fields()) v.push_back(s.json_input());
            return v;
        }();
        return names;
    }

    void read_listener(const nlohmann::json& object, const std::string& pointer) {
        if (!object.is_object()) {
            values_.error("json.shape", at(pointer), "a listener must be a NetworkListener object");
            return;
        }
        ListenerConfig lc;
        lc.path = pointer;
        lc.source = at(pointer);
        for (auto it = object.begin(); it != object.end(); ++it) {
            const std::string member = pointer + "/" + json_pointer_token(it.key());
            if (it.key() == "name") {
                if (it->is_string()) {
                    lc.name = it->get<std::string>();
                    lc.source = at(member);
                } else
                    values_.error("value.wrong-type", at(member), "\"name\" must be a string", "\"name\": \"smtp\"");
            } else if (it.key() == "id") {
                // JMAP's object id: accepted and ignored (SPEC §7).
            } else if (auto field = field_by_json_input(it.key())) {
                read_field(lc.layer, spec_of(*field), *it, member);
            } else {
                unknown_property(member, it.key(), listener_properties());
            }
        }
        const std::string name_pointer = pointer + "/name";
        if (!object.contains("name")) {
            values_.error("listener.missing-name", Source{name_pointer, lc.source.line, lc.source.column},
                          "a NetworkListener needs a \"name\"", "add \"name\": \"smtp\"");
            return;
        }
        if (!object["name"].is_string()) return;
        if (lc.name.empty()) {
            values_.error("listener.empty-name", at(name_pointer), "a listener name cannot be empty",
                          "name it, e.g. \"smtp\"");
            return;
        }
        // A duplicate is still resolved, so its other problems are reported too; the error under its
        // path keeps it out of the result.
        if (!names_.insert(lc.name).second)
            values_.error("json.duplicate-name", at(name_pointer), "another listener is already named " + detail::quote_text(lc.name),
                          "listener names are unique: rename one of them");
        config_.listeners.push_back(std::move(lc));
    }

    Scalar scalar_of(const nlohmann::json& v) const {
        Scalar s;
        if (v.is_boolean()) {
            s.type = Scalar::Type::boolean;
            s.boolean = v.get<bool>();
        } else if (v.is_number_unsigned()) {
            s.type = Scalar::Type::integer;
            s.magnitude = v.get<std::uint64_t>();
        } else if (v.is_number_integer()) {
            s.type = Scalar::Type::integer;
            const auto n = v.get<std::int64_t>();
            s.negative = n < 0;
            s.magnitude = n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
        } else if (v.is_number_float()) {
            s.type = Scalar::Type::floating;
        } else if (v.is_string()) {
            s.type = Scalar::Type::string;
            s.text = v.get_ref<const std::string&>();
        } else if (v.is_null()) {
            s.type = Scalar::Type::null;
        } else {
            s.type = Scalar::Type::other;
            s.type_name = v.is_object() ? "an object" : "an array";
        }
        return s;
    }

    void read_field(Layer& layer, const FieldSpec& spec, const nlohmann::json& v, const std::string& pointer) {
        const Source where = at(pointer);
        if (v.is_null()) return;  // null is the same as leaving the field out
        if (!spec.is_list()) {
            auto value = values_.scalar(spec, scalar_of(v), where);
            if (value) layer.set(spec.field, Setting{std::move(*value), where, {}, false});
            else layer.mark_invalid(spec.field);
            return;
        }
        Setting setting{ValueReader::empty_list(spec), where, {}, true};
        bool ok = true;
        if (v.is_array()) {
            for (std::size_t i = 0; i < v.size(); ++i) {
                const std::string element = pointer + "/" + std::to_string(i);
                const Source element_at = at(element);
                if (values_.element(spec, scalar_of(v[i]), element_at, setting.value))
                    setting.element_sources.push_back({element_at.line, element_at.column, {}});
                else ok = false;
            }
        } else if (v.is_object()) {  // Stalwart's wire form of a set: {"member": true}
            for (auto it = v.begin(); it != v.end(); ++it) {
                const std::string token = json_pointer_token(it.key());
                const std::string member = pointer + "/" + token;
                if (!it->is_boolean() || !it->get<bool>()) {
                    values_.error("value.wrong-type", at(member), "a set member's value must be true",
                                  "write [\"" + it.key() + "\"] or {\"" + it.key() + "\": true}, or leave it out");
                    ok = false;
                    continue;
                }
                Scalar s;
                s.type = Scalar::Type::string;
                s.text = it.key();
                const Source element_at = key_at(member);  // its path is shared, not copied
                if (values_.element(spec, s, element_at, setting.value))
                    setting.element_sources.push_back({element_at.line, element_at.column, SharedText(token)});
                else ok = false;
            }
        } else {
            values_.wrong_type(scalar_of(v), where, "an array", "[\"...\"]");
            ok = false;
        }
        if (ok) layer.set(spec.field, std::move(setting));
        else layer.mark_invalid(spec.field);
    }
};

}  // namespace detail

/// Reads NetworkListener JSON (SPEC §7). Never throws on bad input: problems become diagnostics.
[[nodiscard]] inline Configuration read_json(std::string_view text, const ReadOptions& = {}) {
    Configuration config;
    config.surface = Surface::json;
    if (detail::json_nesting_depth(text, detail::json_max_depth) > detail::json_max_depth) {
        config.diagnostics.push_back({Severity::error, "json.too-deep", "", 1, 1,
                                      "the document is nested more than " + std::to_string(detail::json_max_depth) +
                                          " levels deep",
                                      "a NetworkListener document needs only a few levels"});
        return config;
    }
    auto root = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
        detail::JsonErrorCatcher catcher;
        nlohmann::json::sax_parse(text.begin(), text.end(), &catcher);
        const auto position =
            detail::LineIndex(text).at(catcher.byte > 0 ? catcher.byte - 1 : 0);
        config.diagnostics.push_back({Severity::error, "json.syntax", "", position.line, position.column,
                                      catcher.message.empty() ? "invalid JSON" : catcher.message, {}});
        return config;
    }
    detail::JsonReader(text, config).read(root);
    return config;
}

}  // namespace berth
