#pragma once
// Resolution (SPEC §3) and the cross-field validation of SPEC §4: turns a Configuration into one
// ResolvedListener per listener, with every problem collected in one pass.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "berth/model/configuration.hpp"
#include "berth/model/resolved_listener.hpp"

namespace berth {

struct ResolveOptions {
    /// The kernel's `net.core.somaxconn`, for the backlog warning. Empty: read it from the host when
    /// possible; 0: do not check.
    std::optional<std::uint32_t> somaxconn;
};

struct Resolution {
    Surface surface = Surface::toml;
    std::vector<ResolvedListener> listeners;  ///< sorted by name; only those that resolved without error
    std::vector<Diagnostic> diagnostics;      ///< sorted by position

    [[nodiscard]] bool valid() const noexcept { return !has_errors(diagnostics); }
    [[nodiscard]] const ResolvedListener* find(std::string_view name) const noexcept {
        for (const auto& l : listeners)
            if (l.name == name) return &l;
        return nullptr;
    }
};

namespace detail {

inline std::optional<std::uint32_t> host_somaxconn() {
    std::ifstream in("/proc/sys/net/core/somaxconn");
    std::uint32_t v = 0;
    if (in >> v) return v;
    return std::nullopt;
}

inline std::string canonical_text(const SocketAddr& a) { return a.to_string(); }
inline std::string canonical_text(const IpMask& m) { return m.to_string(); }
inline std::string canonical_text(TlsVersion v) { return std::string(json_name(v)); }
inline std::string canonical_text(TlsCipherSuite c) { return std::string(json_name(c)); }

/// Lists are kept as sorted sets of canonical strings (SPEC §6), so both surfaces resolve alike.
template <class T>
void normalise_list(std::vector<T>& items) {
    std::sort(items.begin(), items.end(),
              [](const T& a, const T& b) { return canonical_text(a) < canonical_text(b); });
    items.erase(std::unique(items.begin(), items.end(),
                            [](const T& a, const T& b) { return canonical_text(a) == canonical_text(b); }),
                items.end());
}

inline void normalise_lists(ResolvedListener& l) {
    normalise_list(l.bind);
    normalise_list(l.tls_disable_protocols);
    normalise_list(l.tls_disable_cipher_suites);
    normalise_list(l.proxy_trusted_networks);
}

inline std::string list_text(const FieldValue& v) {
    std::string out;
    std::visit(
        [&](const auto& x) {
            if constexpr (requires { x.begin(); }) {
                for (const auto& e : x) {
                    if (!out.empty()) out += ", ";
                    out += canonical_text(e);
                }
            }
        },
        v);
    return "[" + out + "]";
}

constexpr bool conventionally_starttls(std::uint16_t port) noexcept {
    return port == 25 || port == 587 || port == 143 || port == 110 || port == 4190;
}
constexpr bool conventionally_implicit(std::uint16_t port) noexcept {
    return port == 465 || port == 993 || port == 995;
}

class Resolver {
public:
    Resolver(const Configuration& config, const ResolveOptions& options) : config_(config), options_(options) {
        result_.surface = config.surface;
        result_.diagnostics = config.diagnostics;
        for (const auto& d : config.diagnostics) reported_.emplace(d.code, d.path);
    }

    Resolution run() && {
        somaxconn_ = options_.somaxconn ? options_.somaxconn : host_somaxconn();
        for (const auto& lc : config_.listeners) resolve_listener(lc);
        check_duplicate_binds();
        std::sort(result_.listeners.begin(), result_.listeners.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        sort_diagnostics(result_.diagnostics);
        return std::move(result_);
    }

private:
    const Configuration& config_;
    const ResolveOptions& options_;
    Resolution result_;
    std::set<std::pair<std::string, std::string>> reported_;  // (code, path): each problem once
    std::optional<std::uint32_t> somaxconn_;
    struct BindSite {
        std::string listener;
        SocketAddr addr;
        Source source;
    };
    std::vector<BindSite> binds_;
    std::set<std::string> error_prefixes_;
    bool error_prefixes_ready_ = false;

    bool report(Severity severity, std::string code, const Source& at, std::string message, std::string hint = {}) {
        if (!reported_.emplace(code, at.path).second) return false;
        result_.diagnostics.push_back(
            Diagnostic{severity, std::move(code), at.path, at.line, at.column, std::move(message), std::move(hint)});
        return true;
    }

    /// Whether reading reported an error under this listener's path. The reader's errors are few; the
    /// listeners may be many, so their paths are looked up, not scanned.
    bool reading_errors_under(const std::string& prefix) {
        if (!error_prefixes_ready_) {
            for (const auto& d : config_.diagnostics) {
                if (!d.is_error()) continue;
                // Listener paths end at the listener's segment: `server.listener.<id>.` or `/…/N/`.
                for (std::size_t i = 0; i < d.path.size(); ++i)
                    if (d.path[i] == '.' || d.path[i] == '/') error_prefixes_.insert(d.path.substr(0, i + 1));
            }
            error_prefixes_ready_ = true;
        }
        return !prefix.empty() && error_prefixes_.count(prefix) > 0;
    }

    static Source key_of(const ListenerConfig& lc, std::string_view key) {
        Source s = lc.source;
        s.path = lc.path_prefix + std::string(key);
        return s;
    }
    std::string_view key_name(const ListenerConfig&, const FieldSpec& spec) const {
        return config_.surface == Surface::toml ? spec.toml_key : spec.json_input();
    }

    void resolve_listener(const ListenerConfig& lc) {
        ResolvedListener l;
        const std::size_t first_bind_site = binds_.size();
        l.name = lc.name;
        l.name_source = lc.source;
        bool broken = reading_errors_under(lc.path_prefix);

        for (const auto& spec : all_fields()) {
            const Field f = spec.field;
            const Setting* own = lc.layer.find(f);
            const Setting* server = config_.server.find(f);
            const bool server_invalid = config_.server.is_invalid(f);
            if (lc.layer.is_invalid(f)) {
                broken = true;
                continue;
            }
            const Setting* chosen = nullptr;
            if (own && !own->is_empty_list()) {
                chosen = own;
            } else if (own && f == Field::bind) {
                report(Severity::error, "listener.missing-bind", own->source,
                       "listener " + detail::quoted(lc.name) + " lists no bind address",
                       "give at least one address, e.g. bind = [\"[::]:25\"]");
                broken = true;
                continue;
            } else {
                if (server_invalid) {
                    broken = true;
                    continue;
                }
                if (server && !server->is_empty_list()) {
                    chosen = server;
                    if (own)
                        report(Severity::warning, "list.empty-inherits", own->source,
                               "this empty list inherits " + server->source.path + " = " + list_text(server->value) +
                                   "; it does not clear it",
                               "remove the empty list to make the inheritance plain, or list what this listener needs");
                }
            }
            if (chosen) {
                assign_field(l, f, chosen->value);
                l.provenance[static_cast<std::size_t>(f)] = chosen->source;
                if (f == Field::bind)
                    for (std::size_t i = 0; i < l.bind.size(); ++i)
                        binds_.push_back({lc.name, l.bind[i],
                                          i < chosen->element_sources.size() ? chosen->element_sources[i]
                                                                             : chosen->source});
                continue;
            }
            if (f == Field::bind) {
                report(Severity::error, "listener.missing-bind", key_of(lc, key_name(lc, spec)),
                       "listener " + detail::quoted(lc.name) + " has no bind address",
                       config_.surface == Surface::toml ? "add bind = \"[::]:PORT\" (or a list of addresses)"
                                                        : "add \"bind\": [\"[::]:PORT\"]");
                broken = true;
            } else if (f == Field::protocol && config_.surface == Surface::toml) {
                report(Severity::error, "listener.missing-protocol", key_of(lc, "protocol"),
                       "listener " + detail::quoted(lc.name) + " has no protocol (Stalwart silently ignores such a listener)",
                       "add protocol = \"smtp\" (or lmtp, imap, pop3, managesieve, http)");
                broken = true;
            }
        }
        if (!check_listener(l, first_bind_site)) broken = true;
        normalise_lists(l);
        if (!broken) result_.listeners.push_back(std::move(l));
    }

    /// Cross-field checks of one listener; its bind sites are binds_[first_bind_site...].
    bool check_listener(const ResolvedListener& l, std::size_t first_bind_site) {
        bool ok = true;
        const auto& versions_src = l.source_of(Field::tls_disable_protocols);
        if (!l.version_enabled(TlsVersion::tls12) && !l.version_enabled(TlsVersion::tls13)) {
            report(Severity::error, "tls.all-versions-disabled", versions_src,
                   "every TLS version is disabled (Stalwart would silently enable both)",
                   "keep at least one of TLSv1.2 and TLSv1.3 enabled, or set tls.enable = false");
            ok = false;
        }
        for (auto version : {TlsVersion::tls12, TlsVersion::tls13}) {
            if (!l.version_enabled(version)) continue;
            bool any_left = false;
            for (auto suite : all_cipher_suites()) {
                if (version_of(suite) != version) continue;
                if (std::find(l.tls_disable_cipher_suites.begin(), l.tls_disable_cipher_suites.end(), suite) ==
                    l.tls_disable_cipher_suites.end())
                    any_left = true;
            }
            if (!any_left) {
                report(Severity::error, "tls.all-ciphers-disabled", l.source_of(Field::tls_disable_cipher_suites),
                       "every cipher suite of " + std::string(toml_name(version)) + " is disabled",
                       "keep at least one " + std::string(toml_name(version)) + " suite, or disable " +
                           std::string(toml_name(version)) + " itself");
                ok = false;
            }
        }
        if (somaxconn_ && *somaxconn_ > 0 && l.socket_backlog > *somaxconn_) {
            Source at = l.source_of(Field::socket_backlog);
            report(Severity::warning, "socket.backlog-clamped", at,
                   "backlog " + std::to_string(l.socket_backlog) + " is above net.core.somaxconn; the kernel clamps it to " +
                       std::to_string(*somaxconn_),
                   "raise net.core.somaxconn (sysctl) or lower the backlog to " + std::to_string(*somaxconn_));
        }
        const bool implicit = l.use_tls && l.tls_implicit;
        const auto& bind_src = l.source_of(Field::bind);
        for (std::size_t i = first_bind_site; i < binds_.size(); ++i) {
            const BindSite& site = binds_[i];
            const auto port = site.addr.port();
            if (implicit && conventionally_starttls(port))
                report(Severity::warning, "tls.port-convention", site.source.path.empty() ? bind_src : site.source,
                       "implicit TLS on port " + std::to_string(port) + ", where clients expect plain text and STARTTLS",
                       "use port 465/993/995 for implicit TLS, or set tls.implicit = false");
            else if (!implicit && conventionally_implicit(port))
                report(Severity::warning, "tls.port-convention", site.source.path.empty() ? bind_src : site.source,
                       "port " + std::to_string(port) + " is conventionally implicit TLS, but this listener " +
                           (l.use_tls ? "expects STARTTLS" : "is plain text"),
                       "set tls.implicit = true for this listener");
        }
        return ok;
    }

    void check_duplicate_binds() {
        std::map<std::string, const BindSite*> seen;
        for (const auto& site : binds_) {
            if (site.addr.port() == 0) continue;  // each port-0 socket gets its own port from the OS
            auto [it, fresh] = seen.emplace(site.addr.to_string(), &site);
            if (fresh) continue;
            const BindSite& first = *it->second;
            const std::string where = first.listener == site.listener ? "earlier in the same listener"
                                                                       : "by listener " + detail::quoted(first.listener);
            if (report(Severity::error, "bind.duplicate", site.source,
                       site.addr.to_string() + " is already bound " + where +
                           (first.source.line ? " (line " + std::to_string(first.source.line) + ")" : std::string{}),
                       "each address may be bound once; remove one of them"))
                drop_listener(site.listener);
        }
    }

    void drop_listener(const std::string& name) {
        std::erase_if(result_.listeners, [&](const auto& l) { return l.name == name; });
    }
};

}  // namespace detail

/// Resolves every listener of a configuration. Never throws for any configuration the surfaces produce.
[[nodiscard]] inline Resolution resolve(const Configuration& config, const ResolveOptions& options = {}) {
    return detail::Resolver(config, options).run();
}

}  // namespace berth
