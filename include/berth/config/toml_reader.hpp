#pragma once
// The TOML surface: Stalwart's `server.listener.<id>.*` keys and their `server.*` defaults (SPEC §1, §2.6).

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "berth/config/read_options.hpp"
#include "berth/config/text.hpp"
#include "berth/config/toml_safe.hpp"
#include "berth/config/value_reader.hpp"
#include "berth/model/configuration.hpp"
#include "berth/model/suggest.hpp"

namespace berth {

namespace detail {

inline Source toml_source(const toml::source_region& region, SharedText path) {
    return Source{std::move(path), static_cast<std::uint32_t>(region.begin.line),
                  static_cast<std::uint32_t>(region.begin.column)};
}

class TomlReader {
public:
    TomlReader(const ReadOptions& options, Configuration& config)
        : options_(options), config_(config), values_(Surface::toml, config.diagnostics) {}

    void read(const toml::table& root) {
        const toml::node* server = root.get("server");
        if (!server) {
            no_listeners(Source{"server.listener", 1, 1});
            return;
        }
        const auto* server_table = server->as_table();
        if (!server_table) {
            values_.error("value.wrong-type", toml_source(server->source(), "server"), "server must be a table",
                          "write [server] as a table header");
            return;
        }
        bool saw_listener_table = false;
        for (auto&& [key, node] : *server_table) {
            const std::string_view k = key.str();
            const std::string path = "server." + toml_key_segment(k);
            if (k == "listener") {
                saw_listener_table = true;
                read_listeners(node, key);
            } else if (k == "max-connections") {
                read_field(config_.server, spec_of(Field::max_connections), node, path);
            } else if (k == "socket" || k == "tls" || k == "proxy") {
                read_server_group(k, node, path);
            }
            // Other server keys (hostname, http, run-as, ...) belong to other parts of Stalwart.
        }
        if (!saw_listener_table || config_.listeners.empty()) no_listeners(toml_source(server->source(), "server.listener"));
    }

private:
    const ReadOptions& options_;
    Configuration& config_;
    ValueReader values_;
    std::string expanded_;  // the text of the last string that named an environment variable

    void no_listeners(const Source& at) {
        values_.warning("config.no-listeners", at, "the configuration defines no listener",
                        "add one, e.g. [server.listener.smtp] with bind and protocol");
    }

    static std::vector<std::string_view> candidate_keys(std::string_view prefix) {
        std::vector<std::string_view> out;
        for (const auto& s : all_fields()) {
            if (prefix.empty()) out.push_back(s.toml_key);
            else if (s.toml_server_key.starts_with(prefix)) out.push_back(s.toml_server_key.substr(prefix.size()));
        }
        return out;
    }

    void unknown_key(const Source& at, std::string_view written, std::string_view prefix_for_candidates,
                     std::string_view shown_prefix) {
        const auto candidates = candidate_keys(prefix_for_candidates);
        std::string hint;
        for (auto c : candidates) {
            if (ascii_lower(c) == ascii_lower(written) && c != written) {
                hint = "keys are case-sensitive: write " + std::string(shown_prefix) + std::string(c);
                break;
            }
        }
        if (hint.empty()) hint = retired_key_hint(written);
        if (hint.empty())
            if (auto s = did_you_mean(written, candidates)) hint = "did you mean " + std::string(shown_prefix) + std::string(*s) + "?";
        values_.warning("key.unknown", at, "unknown key " + detail::quote_text(written) + ", ignored", std::move(hint));
    }

    /// Keys of older Stalwart versions that still appear in real configurations, and what replaced them.
    static std::string retired_key_hint(std::string_view written) {
        const std::string_view last = written.substr(written.rfind('.') == std::string_view::npos ? 0 : written.rfind('.') + 1);
        if (last == "ciphers") return "Stalwart no longer reads tls.ciphers; to restrict suites, list the ones to drop in tls.disable-ciphers";
        if (last == "protocols") return "Stalwart no longer reads tls.protocols; list the versions to drop in tls.disable-protocols";
        if (last == "certificate" || last == "sni" || last == "acme")
            return "certificates are configured in [certificate.<id>] tables, not on listeners";
        return {};
    }

    void read_server_group(std::string_view group, const toml::node& node, const std::string& path) {
        const auto* table = node.as_table();
        if (!table) {
            values_.error("value.wrong-type", toml_source(node.source(), path), path + " must be a table",
                          "write [" + path + "] as a table header");
            return;
        }
        const std::string prefix = "server." + std::string(group) + ".";
        for (auto&& [key, child] : *table) {
            const std::string full = prefix + std::string(key.str());
            const std::string shown = prefix + toml_key_segment(key.str());
            const FieldSpec* spec = nullptr;
            for (const auto& s : all_fields())
                if (!s.toml_server_key.empty() && s.toml_server_key == full) spec = &s;
            if (spec) read_field(config_.server, *spec, child, shown);
            else unknown_key(toml_source(key.source(), shown), key.str(), prefix, prefix);
        }
    }

    void read_listeners(const toml::node& node, const toml::key& key) {
        const auto* table = node.as_table();
        if (!table) {
            values_.error("value.wrong-type", toml_source(key.source(), "server.listener"),
                          "server.listener must be a table of listeners", "write [server.listener.smtp] and so on");
            return;
        }
        config_.listeners.reserve(config_.listeners.size() + table->size());
        for (auto&& [id, listener] : *table) read_listener(id, listener);
    }

    void read_listener(const toml::key& id, const toml::node& node) {
        // Read in place (the vector has room for every listener) and removed again if it cannot be read.
        ListenerConfig& lc = config_.listeners.emplace_back();
        lc.name = id.str();
        lc.path = listener_key_path("server.listener", "", lc.name);
        lc.source = toml_source(id.source(), lc.path);
        if (lc.name.empty()) {
            values_.error("listener.empty-name", lc.source, "a listener id cannot be empty",
                          "name it, e.g. [server.listener.smtp]");
            config_.listeners.pop_back();
            return;
        }
        const auto* table = node.as_table();
        if (!table) {
            values_.error("listener.not-a-table", lc.source, "listener " + lc.source.path + " must be a table",
                          "write [" + lc.source.path + "] with bind and protocol keys");
            config_.listeners.pop_back();
            return;
        }
        walk_listener(lc, *table, "");
    }

    /// `relative` is "" at the listener's table, or the group ("socket.", "tls.", "proxy.") below it.
    void walk_listener(ListenerConfig& lc, const toml::table& table, std::string_view relative) {
        std::string rel_buffer;  // only a key below a group needs its relative key put together
        for (auto&& [key, child] : table) {
            std::string_view rel = key.str();
            if (!relative.empty()) {
                rel_buffer.assign(relative).append(key.str());
                rel = rel_buffer;
            }
            // The full key as diagnostics and provenance show it (the group names are bare keys), made
            // once and shared by the value, its elements and its diagnostics.
            SharedText path = listener_key_path(lc.path, relative, key.str());
            if (auto field = field_by_toml_key(rel)) {
                read_field(lc.layer, spec_of(*field), child, std::move(path));
            } else if (relative.empty() && (rel == "socket" || rel == "tls" || rel == "proxy")) {
                if (const auto* sub = child.as_table()) walk_listener(lc, *sub, group_prefix(rel));
                else
                    values_.error("value.wrong-type", toml_source(child.source(), path), path + " must be a table",
                                  "write " + path + ".<key> = value");
            } else {
                unknown_key(toml_source(key.source(), path), rel, "", lc.path + ".");
            }
        }
    }

    /// `listener.relative.key`, with `key` quoted when it is not a bare key; `relative` is empty or ends in a dot.
    static SharedText listener_key_path(std::string_view listener, std::string_view relative, std::string_view key) {
        if (is_bare_key(key)) return SharedText::concat({listener, ".", relative, key});
        std::string path;
        path.append(listener).append(".").append(relative);
        append_toml_key_segment(path, key);
        return SharedText(path);
    }

    static std::string_view group_prefix(std::string_view group) noexcept {
        if (group == "socket") return "socket.";
        if (group == "tls") return "tls.";
        return "proxy.";
    }

    /// A scalar node as the value checks see it, with %{env:NAME}% expanded in strings. A string's text
    /// is the node's own, or expanded_'s when it names a variable: valid until the next call.
    std::optional<Scalar> scalar_of(const toml::node& node, const Source& at) {
        Scalar s;
        if (const auto* b = node.as_boolean()) {
            s.type = Scalar::Type::boolean;
            s.boolean = b->get();
        } else if (const auto* i = node.as_integer()) {
            s.type = Scalar::Type::integer;
            const std::int64_t v = i->get();
            s.negative = v < 0;
            s.magnitude = v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
        } else if (node.is_floating_point()) {
            s.type = Scalar::Type::floating;
        } else if (const auto* str = node.as_string()) {
            s.type = Scalar::Type::string;
            const std::string& written = str->get();
            if (written.find(env_open) == std::string::npos) {
                s.text = written;
            } else {
                auto expanded = expand_env(written, at);
                if (!expanded) return std::nullopt;
                expanded_ = std::move(*expanded);
                s.text = expanded_;
            }
        } else {
            s.type = Scalar::Type::other;
            s.type_name = node.is_table() ? "a table" : node.is_array() ? "an array" : "a date or time";
        }
        return s;
    }

    static constexpr std::string_view env_open = "%{env:";

    std::optional<std::string> expand_env(std::string_view text, const Source& at) {
        static constexpr std::string_view close = "}%";
        std::string out;
        std::size_t pos = 0;
        while (true) {
            const auto start = text.find(env_open, pos);
            if (start == std::string_view::npos) break;
            const auto end = text.find(close, start + env_open.size());
            if (end == std::string_view::npos) {
                values_.error("env.malformed", at, "unterminated %{env:...}% in " + detail::quote_text(text),
                              "write %{env:NAME}%");
                return std::nullopt;
            }
            const auto name = text.substr(start + env_open.size(), end - start - env_open.size());
            auto value = options_.lookup(name);
            if (!value) {
                values_.error("env.unset", at, "environment variable " + detail::quote_text(name) + " is not set",
                              "set " + std::string(name) + " in the environment, or write the value itself");
                return std::nullopt;
            }
            out.append(text.substr(pos, start - pos));
            out.append(*value);
            pos = end + close.size();
        }
        out.append(text.substr(pos));
        return out;
    }

    void read_field(Layer& layer, const FieldSpec& spec, const toml::node& node, SharedText path) {
        if (!spec.is_list()) {
            Source at = toml_source(node.source(), std::move(path));
            auto scalar = scalar_of(node, at);
            std::optional<FieldValue> value;
            if (scalar) {
                if (scalar->type == Scalar::Type::other && spec.kind != ValueKind::protocol)
                    values_.wrong_type(*scalar, at, "a single value", "");
                else value = values_.scalar(spec, *scalar, at);
            }
            if (value) layer.set(spec.field, Setting{std::move(*value), std::move(at), {}, false});
            else layer.mark_invalid(spec.field);
            return;
        }
        Setting setting{ValueReader::empty_list(spec), toml_source(node.source(), path), {}, false};
        bool ok = true;
        if (const auto* array = node.as_array()) {
            setting.written_as_list = true;
            setting.element_sources.reserve(array->size());
            std::visit(
                [&](auto& list) {
                    if constexpr (requires { list.reserve(std::size_t{}); }) list.reserve(array->size());
                },
                setting.value);
            std::size_t index = 0;
            for (const auto& element : *array) ok = read_element(spec, element, index++, setting) && ok;
        } else {
            auto scalar = scalar_of(node, setting.source);
            ok = scalar && values_.element(spec, *scalar, setting.source, setting.value);
        }
        if (spec.field == Field::bind && !ok) refine_missing_port_hints(setting, path);
        if (ok) layer.set(spec.field, std::move(setting));
        else layer.mark_invalid(spec.field);
    }

    /// Reads element `index` of a list into `setting`. Its diagnostics name the element's own key,
    /// `list[index]`, which is put together only for them: most elements have none.
    bool read_element(const FieldSpec& spec, const toml::node& element, std::size_t index, Setting& setting) {
        const std::size_t first_new_diagnostic = config_.diagnostics.size();
        const ElementSource site{static_cast<std::uint32_t>(element.source().begin.line),
                                 static_cast<std::uint32_t>(element.source().begin.column), {}};
        const Source at{setting.source.path, site.line, site.column};
        auto scalar = scalar_of(element, at);
        const bool ok = scalar && values_.element(spec, *scalar, at, setting.value);
        if (config_.diagnostics.size() > first_new_diagnostic) {
            const Source element_at = element_source(setting.source, site, index, Surface::toml);
            for (std::size_t d = first_new_diagnostic; d < config_.diagnostics.size(); ++d)
                config_.diagnostics[d].path = element_at.path.str();
        }
        if (ok) setting.element_sources.push_back(site);
        return ok;
    }

    /// For `"2001:db8::2"` next to `"192.0.2.1:25"`, the likely fix names the siblings' port.
    void refine_missing_port_hints(const Setting& setting, std::string_view path) {
        const auto* addrs = std::get_if<std::vector<SocketAddr>>(&setting.value);
        if (!addrs || addrs->empty()) return;
        const auto port = addrs->front().port();
        for (const auto& a : *addrs)
            if (a.port() != port) return;
        for (auto& d : config_.diagnostics) {
            if (d.code != "bind.missing-port" || !d.path.starts_with(path)) continue;
            const auto at = d.hint.find(":PORT");
            if (at == std::string::npos) continue;
            const auto open = d.hint.rfind('[', at);
            if (open == std::string::npos) continue;
            const std::string fixed = d.hint.substr(open, at - open) + ":" + std::to_string(port);
            d.hint += " (the other addresses use port " + std::to_string(port) + ": \"" + fixed + "\")";
        }
    }
};

}  // namespace detail

namespace detail {

/// toml++'s syntax errors can point one past the text (an unterminated string at the end of the file)
/// and quote raw newlines in their description: keep the position inside the text and the message on
/// one line.
inline Diagnostic toml_syntax_error(std::string_view text, std::string_view description, std::uint32_t line,
                                    std::uint32_t column) {
    std::string message;
    for (char c : description) {
        if (c == '\n') message += "\\n";
        else if (c == '\r') message += "\\r";
        else if (c == '\t') message += "\\t";
        else message += c;
    }
    // Code points on each line, to clamp the column; lines past the end clamp to the last one.
    std::vector<std::uint32_t> widths{0};
    for (char c : text) {
        if (c == '\n') widths.push_back(0);
        else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++widths.back();
    }
    if (line == 0) line = 1;
    if (line > widths.size()) {
        line = static_cast<std::uint32_t>(widths.size());
        column = widths.back() + 1;
    }
    if (column == 0) column = 1;
    if (column > widths[line - 1] + 1) column = widths[line - 1] + 1;
    return {Severity::error, "toml.syntax", "", line, column, std::move(message), {}};
}

}  // namespace detail

namespace detail {

/// Parses and reads `text`, then returns `then(config)` while the parsed document still exists. The
/// document is freed after the configuration: work that allocates after tens of thousands of small
/// nodes have been freed makes the allocator merge them all first (glibc), which costs as much as a
/// good part of the reading.
template <class Then>
auto read_toml_then(std::string_view text, const ReadOptions& options, Then&& then) {
#if TOML_EXCEPTIONS
    toml::table root;
    Configuration config;
    config.surface = Surface::toml;
    try {
        root = toml::parse(text, std::string_view{"config.toml"});
    } catch (const toml::parse_error& e) {
        config.diagnostics.push_back(detail::toml_syntax_error(text, e.description(),
                                                               static_cast<std::uint32_t>(e.source().begin.line),
                                                               static_cast<std::uint32_t>(e.source().begin.column)));
        return then(config);
    }
#else
    toml::parse_result parsed = toml::parse(text, std::string_view{"config.toml"});
    Configuration config;
    config.surface = Surface::toml;
    if (!parsed) {
        const auto& e = parsed.error();
        config.diagnostics.push_back(detail::toml_syntax_error(text, e.description(),
                                                               static_cast<std::uint32_t>(e.source().begin.line),
                                                               static_cast<std::uint32_t>(e.source().begin.column)));
        return then(config);
    }
    const toml::table& root = parsed.table();
#endif
    detail::TomlReader(options, config).read(root);
    return then(config);
}

}  // namespace detail

/// Reads Stalwart's TOML configuration. Never throws on bad input: problems become diagnostics.
[[nodiscard]] inline Configuration read_toml(std::string_view text, const ReadOptions& options = {}) {
    return detail::read_toml_then(text, options, [](Configuration& config) { return std::move(config); });
}

}  // namespace berth
