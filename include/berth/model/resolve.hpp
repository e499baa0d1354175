#pragma once
// Resolution (SPEC §3) and the cross-field validation of SPEC §4: turns a Configuration into one
// ResolvedListener per listener, with every problem collected in one pass.

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
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

/// The canonical text of a list element as a sort key, made without allocating.
inline AddressText canonical_key(const SocketAddr& a) noexcept {
    AddressText text;
    write_socket_addr(text, a);
    return text;
}
inline AddressText canonical_key(const IpMask& m) noexcept {
    AddressText text;
    write_ip_mask(text, m);
    return text;
}
inline std::string_view canonical_key(TlsVersion v) noexcept { return json_name(v); }
inline std::string_view canonical_key(TlsCipherSuite c) noexcept { return json_name(c); }
inline std::string_view key_text(const AddressText& text) noexcept { return text.view(); }
inline std::string_view key_text(std::string_view text) noexcept { return text; }

/// The order of two elements' canonical texts when it shows without printing them, else 0. An IPv4
/// address prints as digits and an IPv6 one in brackets, and '[' sorts after every digit.
inline int order_without_text(const SocketAddr& a, const SocketAddr& b) noexcept {
    if (a.address().is_v4() == b.address().is_v4()) return 0;
    return a.address().is_v4() ? -1 : 1;
}
template <class T>
int order_without_text(const T&, const T&) noexcept {
    return 0;
}

/// Lists are kept as sorted sets of canonical strings (SPEC §6), so both surfaces resolve alike. Each
/// element's text is made once, not once per comparison: printing an address costs far more than
/// comparing two texts.
template <class T>
void normalise_list(std::vector<T>& items) {
    if (items.size() < 2) return;
    if (items.size() == 2) {  // the usual case (an IPv4 and an IPv6 bind), without a scratch vector
        int order = order_without_text(items[0], items[1]);
        if (order == 0) {
            const auto first = canonical_key(items[0]);
            const auto second = canonical_key(items[1]);
            order = key_text(first).compare(key_text(second));
        }
        if (order == 0) items.pop_back();
        else if (order > 0) std::swap(items[0], items[1]);
        return;
    }
    std::vector<std::pair<decltype(canonical_key(items[0])), T>> keyed;
    keyed.reserve(items.size());
    for (auto& item : items) keyed.emplace_back(canonical_key(item), std::move(item));
    // Equal texts are equal values, so which of them sorts first cannot show.
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return key_text(a.first) < key_text(b.first); });
    items.clear();
    std::string_view kept;  // the text of the last element kept
    for (auto& [key, item] : keyed) {
        if (!items.empty() && key_text(key) == kept) continue;
        items.push_back(std::move(item));
        kept = key_text(key);
    }
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

    struct Consume {};
    static constexpr Consume consume{};
    /// A resolver that may move the listeners' own values and sources out of `config`, which the caller
    /// throws away afterwards: each is then stored once instead of copied.
    Resolver(Configuration& config, Consume, const ResolveOptions& options)
        : Resolver(std::as_const(config), options) {
        consumable_ = &config;
    }

    Resolution run() && {
        somaxconn_ = options_.somaxconn ? options_.somaxconn : host_somaxconn();
        result_.listeners.reserve(config_.listeners.size());
        for (std::size_t i = 0; i < config_.listeners.size(); ++i)
            resolve_listener(config_.listeners[i], consumable_ ? &consumable_->listeners[i] : nullptr);
        check_duplicate_binds();
        // TOML tables come out of toml++ in key order, so the listeners are usually sorted already, and
        // checking costs one pass where sorting moves large objects around.
        auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
        if (!std::is_sorted(result_.listeners.begin(), result_.listeners.end(), by_name))
            std::sort(result_.listeners.begin(), result_.listeners.end(), by_name);
        sort_diagnostics(result_.diagnostics);
        return std::move(result_);
    }

private:
    const Configuration& config_;
    Configuration* consumable_ = nullptr;  // config_ itself, when its listeners' values may be moved
    const ResolveOptions& options_;
    Resolution result_;
    std::set<std::pair<std::string, std::string>> reported_;  // (code, path): each problem once
    std::optional<std::uint32_t> somaxconn_;
    /// One bound address. The name and the setting point into config_, which outlives the resolver.
    struct BindSite {
        const std::string* listener;
        SocketAddr addr;
        const Setting* setting;  // the listener's own bind setting
        std::size_t index;       // the address's place in it, as written
    };
    /// Where a bound address was written (made for diagnostics only).
    [[nodiscard]] Source source_of(const BindSite& site) const {
        return site.setting->element_source(site.index, config_.surface);
    }
    std::vector<BindSite> binds_;
    /// The server-wide lists, normalised once for all the listeners that inherit them.
    std::array<std::optional<FieldValue>, field_count> normalised_server_lists_{};
    std::set<std::string> error_prefixes_;
    bool error_prefixes_ready_ = false;

    bool report(Severity severity, std::string code, const Source& at, std::string message, std::string hint = {}) {
        if (!reported_.emplace(code, at.path.str()).second) return false;
        result_.diagnostics.push_back(Diagnostic{severity, std::move(code), at.path.str(), at.line, at.column,
                                                 std::move(message), std::move(hint)});
        return true;
    }

    /// Whether reading reported an error under this listener's path. The reader's errors are few; the
    /// listeners may be many, so their paths are looked up, not scanned.
    bool reading_errors_under(const ListenerConfig& lc) {
        if (!error_prefixes_ready_) {
            for (const auto& d : config_.diagnostics) {
                if (!d.is_error()) continue;
                // Listener paths end at the listener's segment: `server.listener.<id>.` or `/…/N/`.
                for (std::size_t i = 0; i < d.path.size(); ++i)
                    if (d.path[i] == '.' || d.path[i] == '/') error_prefixes_.insert(d.path.substr(0, i + 1));
            }
            error_prefixes_ready_ = true;
        }
        if (error_prefixes_.empty()) return false;
        return error_prefixes_.count(lc.path + separator()) > 0;
    }

    /// What joins a listener's path and the keys of its fields.
    std::string_view separator() const noexcept { return config_.surface == Surface::toml ? "." : "/"; }

    Source key_of(const ListenerConfig& lc, std::string_view key) const {
        Source s = lc.source;
        s.path = SharedText::concat({lc.path.view(), separator(), key});
        return s;
    }
    std::string_view key_name(const ListenerConfig&, const FieldSpec& spec) const {
        return config_.surface == Surface::toml ? spec.toml_key : spec.json_input();
    }

    /// `movable` is `lc` itself when its values and sources may be moved out, else null.
    void resolve_listener(const ListenerConfig& lc, ListenerConfig* movable) {
        // Built in place (the vector has room for every listener) and removed again if it is broken.
        ResolvedListener& l = result_.listeners.emplace_back();
        const std::size_t first_bind_site = binds_.size();
        l.name = lc.name;  // copied: the bind sites point at lc.name
        bool broken = reading_errors_under(lc);

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
                       "listener " + detail::quote_text(lc.name) + " lists no bind address",
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
                auto& provenance = l.provenance[static_cast<std::size_t>(f)];
                if (chosen == server) {
                    // Inherited by every listener: copied, and a list is normalised once for all of them.
                    // The provenance is shared with the server-wide setting (a pointer copy).
                    if (spec.is_list() && f != Field::bind) assign_field(l, f, normalised_server_list(f, *server));
                    else assign_field(l, f, server->value);
                    provenance = server->source;
                    continue;
                }
                Setting* movable_own = movable ? movable->layer.find(f) : nullptr;
                if (movable_own) assign_field(l, f, std::move(movable_own->value));
                else assign_field(l, f, own->value);
                if (f == Field::bind) {
                    // The bind sites keep the order as written, which element_sources follows; their
                    // sources are made from the setting's, which therefore stays where it is.
                    for (std::size_t i = 0; i < l.bind.size(); ++i) binds_.push_back({&lc.name, l.bind[i], own, i});
                }
                normalise_list_field(l, f);
                if (movable_own && f != Field::bind) provenance = std::move(movable_own->source);
                else provenance = own->source;
                continue;
            }
            if (f == Field::bind) {
                report(Severity::error, "listener.missing-bind", key_of(lc, key_name(lc, spec)),
                       "listener " + detail::quote_text(lc.name) + " has no bind address",
                       config_.surface == Surface::toml ? "add bind = \"[::]:PORT\" (or a list of addresses)"
                                                        : "add \"bind\": [\"[::]:PORT\"]");
                broken = true;
            } else if (f == Field::protocol && config_.surface == Surface::toml) {
                report(Severity::error, "listener.missing-protocol", key_of(lc, "protocol"),
                       "listener " + detail::quote_text(lc.name) + " has no protocol (Stalwart silently ignores such a listener)",
                       "add protocol = \"smtp\" (or lmtp, imap, pop3, managesieve, http)");
                broken = true;
            }
        }
        if (!check_listener(l, first_bind_site)) broken = true;
        if (broken) {
            result_.listeners.pop_back();
            return;
        }
        if (movable) l.name_source = std::move(movable->source);
        else l.name_source = lc.source;
    }

    /// Normalises the listener's list of field f (nothing for other fields). No check depends on the
    /// order of a list, so lists are normalised as they are assigned.
    static void normalise_list_field(ResolvedListener& l, Field f) {
        switch (f) {
        case Field::bind: normalise_list(l.bind); break;
        case Field::tls_disable_protocols: normalise_list(l.tls_disable_protocols); break;
        case Field::tls_disable_cipher_suites: normalise_list(l.tls_disable_cipher_suites); break;
        case Field::proxy_trusted_networks: normalise_list(l.proxy_trusted_networks); break;
        default: break;
        }
    }

    const FieldValue& normalised_server_list(Field f, const Setting& server) {
        auto& cached = normalised_server_lists_[static_cast<std::size_t>(f)];
        if (!cached) {
            cached = server.value;
            std::visit(
                [](auto& v) {
                    if constexpr (requires { v.begin(); }) normalise_list(v);
                },
                *cached);
        }
        return *cached;
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
        // With no suite disabled every enabled version keeps all of its suites (most listeners).
        for (auto version : {TlsVersion::tls12, TlsVersion::tls13}) {
            if (l.tls_disable_cipher_suites.empty() || !l.version_enabled(version)) continue;
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
        auto site_source = [&](const BindSite& site) {
            Source at = source_of(site);
            return at.path.empty() ? bind_src : at;
        };
        for (std::size_t i = first_bind_site; i < binds_.size(); ++i) {
            const BindSite& site = binds_[i];
            const auto port = site.addr.port();
            if (implicit && conventionally_starttls(port))
                report(Severity::warning, "tls.port-convention", site_source(site),
                       "implicit TLS on port " + std::to_string(port) + ", where clients expect plain text and STARTTLS",
                       "use port 465/993/995 for implicit TLS, or set tls.implicit = false");
            else if (!implicit && conventionally_implicit(port))
                report(Severity::warning, "tls.port-convention", site_source(site),
                       "port " + std::to_string(port) + " is conventionally implicit TLS, but this listener " +
                           (l.use_tls ? "expects STARTTLS" : "is plain text"),
                       "set tls.implicit = true for this listener");
        }
        return ok;
    }

    /// Mixes every part operator== compares, so equal addresses land in the same slot.
    static std::size_t hash(const SocketAddr& a) noexcept {
        const auto bytes = a.address().v6_bytes();
        std::uint64_t high = 0, low = 0;
        std::memcpy(&high, bytes.data(), 8);
        std::memcpy(&low, bytes.data() + 8, 8);
        std::uint64_t h = high * 0x9e3779b97f4a7c15u;
        h = (h ^ (h >> 29) ^ low) * 0xbf58476d1ce4e5b9u;
        h = (h ^ (h >> 31) ^ (std::uint64_t{a.address().scope_id()} << 17) ^ (std::uint64_t{a.port()} << 1) ^
             (a.address().is_v6() ? 1u : 0u)) *
            0x94d049bb133111ebu;
        return static_cast<std::size_t>(h ^ (h >> 32));
    }

    /// Two addresses are equal exactly when their canonical texts are, so the sites are compared as
    /// values, in an open-addressing table of indexes into binds_: no address is printed and nothing is
    /// allocated per address unless it is a duplicate.
    void check_duplicate_binds() {
        std::size_t capacity = 16;
        while (capacity < 2 * binds_.size()) capacity *= 2;
        std::vector<std::size_t> slots(capacity, 0);  // index + 1 into binds_; 0 when empty
        for (std::size_t index = 0; index < binds_.size(); ++index) {
            const BindSite& site = binds_[index];
            if (site.addr.port() == 0) continue;  // each port-0 socket gets its own port from the OS
            std::size_t slot = hash(site.addr) & (capacity - 1);
            while (slots[slot] != 0 && binds_[slots[slot] - 1].addr != site.addr) slot = (slot + 1) & (capacity - 1);
            if (slots[slot] == 0) {
                slots[slot] = index + 1;
                continue;
            }
            const BindSite& first = binds_[slots[slot] - 1];
            const std::string where = *first.listener == *site.listener
                                          ? "earlier in the same listener"
                                          : "by listener " + detail::quote_text(*first.listener);
            const Source first_at = source_of(first);
            if (report(Severity::error, "bind.duplicate", source_of(site),
                       site.addr.to_string() + " is already bound " + where +
                           (first_at.line ? " (line " + std::to_string(first_at.line) + ")" : std::string{}),
                       "each address may be bound once; remove one of them"))
                drop_listener(*site.listener);
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

namespace detail {

/// resolve() for a configuration that is thrown away afterwards (load's): the listeners' own values and
/// sources are moved out of it rather than copied.
[[nodiscard]] inline Resolution resolve_consuming(Configuration& config, const ResolveOptions& options) {
    return Resolver(config, Resolver::consume, options).run();
}

}  // namespace detail

}  // namespace berth
