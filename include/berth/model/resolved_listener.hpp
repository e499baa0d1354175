#pragma once
// One fully-populated listener after resolution (SPEC §3), each field with its provenance.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "berth/model/configuration.hpp"

namespace berth {

struct ResolvedListener {
    std::string name;
    Protocol protocol = Protocol::smtp;
    std::vector<SocketAddr> bind;
    std::uint32_t max_connections = 8192;
    bool socket_reuse_address = true;
    bool socket_reuse_port = true;
    std::uint32_t socket_backlog = 1024;
    std::optional<std::uint8_t> socket_ttl;
    std::optional<std::uint32_t> socket_send_buffer_size;
    std::optional<std::uint32_t> socket_receive_buffer_size;
    std::optional<Duration> socket_linger;
    std::optional<std::uint8_t> socket_tos_v4;
    bool socket_no_delay = true;
    bool use_tls = true;
    bool tls_implicit = false;
    Duration tls_timeout = Duration::from_milliseconds(60000);
    std::vector<TlsVersion> tls_disable_protocols;
    std::vector<TlsCipherSuite> tls_disable_cipher_suites;
    bool tls_ignore_client_order = true;
    std::vector<IpMask> proxy_trusted_networks;

    Source name_source;
    std::array<Source, field_count> provenance{};

    [[nodiscard]] const Source& source_of(Field f) const noexcept {
        return provenance[static_cast<std::size_t>(f)];
    }
    /// STARTTLS is offered to the session only when TLS is on and not implicit (SPEC §5).
    [[nodiscard]] bool offers_starttls() const noexcept { return use_tls && !tls_implicit; }
    [[nodiscard]] bool uses_proxy_protocol() const noexcept { return !proxy_trusted_networks.empty(); }
    [[nodiscard]] bool version_enabled(TlsVersion v) const noexcept {
        for (auto d : tls_disable_protocols)
            if (d == v) return false;
        return true;
    }

    /// Equal values, provenance ignored (what a round trip through another surface must keep).
    [[nodiscard]] bool same_values(const ResolvedListener& o) const {
        return name == o.name && protocol == o.protocol && bind == o.bind && max_connections == o.max_connections &&
               socket_reuse_address == o.socket_reuse_address && socket_reuse_port == o.socket_reuse_port &&
               socket_backlog == o.socket_backlog && socket_ttl == o.socket_ttl &&
               socket_send_buffer_size == o.socket_send_buffer_size &&
               socket_receive_buffer_size == o.socket_receive_buffer_size && socket_linger == o.socket_linger &&
               socket_tos_v4 == o.socket_tos_v4 && socket_no_delay == o.socket_no_delay && use_tls == o.use_tls &&
               tls_implicit == o.tls_implicit && tls_timeout == o.tls_timeout &&
               tls_disable_protocols == o.tls_disable_protocols &&
               tls_disable_cipher_suites == o.tls_disable_cipher_suites &&
               tls_ignore_client_order == o.tls_ignore_client_order &&
               proxy_trusted_networks == o.proxy_trusted_networks;
    }
};

namespace detail {

template <class T>
std::optional<T> narrow_optional(const FieldValue& v) {
    if (const auto* n = std::get_if<std::uint64_t>(&v)) return static_cast<T>(*n);
    return std::nullopt;
}

}  // namespace detail

namespace detail {

/// assign_field for a FieldValue that is copied from (const&) or moved from (&&): only lists differ.
template <class Value>
void assign_field_from(ResolvedListener& l, Field f, Value&& v) {
    auto u32 = [&] { return static_cast<std::uint32_t>(std::get<std::uint64_t>(v)); };
    auto flag = [&] { return std::get<bool>(v); };
    switch (f) {
    case Field::bind: l.bind = std::get<std::vector<SocketAddr>>(std::forward<Value>(v)); break;
    case Field::protocol: l.protocol = std::get<Protocol>(v); break;
    case Field::max_connections: l.max_connections = u32(); break;
    case Field::socket_reuse_address: l.socket_reuse_address = flag(); break;
    case Field::socket_reuse_port: l.socket_reuse_port = flag(); break;
    case Field::socket_backlog: l.socket_backlog = u32(); break;
    case Field::socket_ttl: l.socket_ttl = narrow_optional<std::uint8_t>(v); break;
    case Field::socket_send_buffer_size: l.socket_send_buffer_size = narrow_optional<std::uint32_t>(v); break;
    case Field::socket_receive_buffer_size: l.socket_receive_buffer_size = narrow_optional<std::uint32_t>(v); break;
    case Field::socket_linger:
        l.socket_linger = std::holds_alternative<Duration>(v) ? std::optional{std::get<Duration>(v)} : std::nullopt;
        break;
    case Field::socket_tos_v4: l.socket_tos_v4 = narrow_optional<std::uint8_t>(v); break;
    case Field::socket_no_delay: l.socket_no_delay = flag(); break;
    case Field::use_tls: l.use_tls = flag(); break;
    case Field::tls_implicit: l.tls_implicit = flag(); break;
    case Field::tls_timeout: l.tls_timeout = std::get<Duration>(v); break;
    case Field::tls_disable_protocols:
        l.tls_disable_protocols = std::get<std::vector<TlsVersion>>(std::forward<Value>(v));
        break;
    case Field::tls_disable_cipher_suites:
        l.tls_disable_cipher_suites = std::get<std::vector<TlsCipherSuite>>(std::forward<Value>(v));
        break;
    case Field::tls_ignore_client_order: l.tls_ignore_client_order = flag(); break;
    case Field::proxy_trusted_networks:
        l.proxy_trusted_networks = std::get<std::vector<IpMask>>(std::forward<Value>(v));
        break;
    }
}

}  // namespace detail

/// Stores a value of the field's kind into the listener. The value has been range-checked by the surface.
inline void assign_field(ResolvedListener& l, Field f, const FieldValue& v) { detail::assign_field_from(l, f, v); }

/// The same, moving a list out of `v` instead of copying it.
inline void assign_field(ResolvedListener& l, Field f, FieldValue&& v) {
    detail::assign_field_from(l, f, std::move(v));
}

/// The listener's value of a field, as a FieldValue (Unset for an unset optional).
[[nodiscard]] inline FieldValue field_value(const ResolvedListener& l, Field f) {
    auto opt = [](const auto& o) -> FieldValue {
        if (o) return static_cast<std::uint64_t>(*o);
        return Unset{};
    };
    switch (f) {
    case Field::bind: return l.bind;
    case Field::protocol: return l.protocol;
    case Field::max_connections: return std::uint64_t{l.max_connections};
    case Field::socket_reuse_address: return l.socket_reuse_address;
    case Field::socket_reuse_port: return l.socket_reuse_port;
    case Field::socket_backlog: return std::uint64_t{l.socket_backlog};
    case Field::socket_ttl: return opt(l.socket_ttl);
    case Field::socket_send_buffer_size: return opt(l.socket_send_buffer_size);
    case Field::socket_receive_buffer_size: return opt(l.socket_receive_buffer_size);
    case Field::socket_linger: return l.socket_linger ? FieldValue{*l.socket_linger} : FieldValue{Unset{}};
    case Field::socket_tos_v4: return opt(l.socket_tos_v4);
    case Field::socket_no_delay: return l.socket_no_delay;
    case Field::use_tls: return l.use_tls;
    case Field::tls_implicit: return l.tls_implicit;
    case Field::tls_timeout: return l.tls_timeout;
    case Field::tls_disable_protocols: return l.tls_disable_protocols;
    case Field::tls_disable_cipher_suites: return l.tls_disable_cipher_suites;
    case Field::tls_ignore_client_order: return l.tls_ignore_client_order;
    case Field::proxy_trusted_networks: return l.proxy_trusted_networks;
    }
    return Unset{};
}

/// The built-in default of a field (SPEC §1). `bind` has none; `protocol`'s applies to JSON only.
[[nodiscard]] inline FieldValue default_value(Field f) { return field_value(ResolvedListener{}, f); }

}  // namespace berth
