#pragma once
// The table of SPEC §1: one row per resolvable listener field, shared by both surfaces, the resolver,
// the §6 output, conversion and the reference documentation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace berth {

enum class Field : std::uint8_t {
    bind,
    protocol,
    max_connections,
    socket_reuse_address,
    socket_reuse_port,
    socket_backlog,
    socket_ttl,
    socket_send_buffer_size,
    socket_receive_buffer_size,
    socket_linger,
    socket_tos_v4,
    socket_no_delay,
    use_tls,
    tls_implicit,
    tls_timeout,
    tls_disable_protocols,
    tls_disable_cipher_suites,
    tls_ignore_client_order,
    proxy_trusted_networks,
};

inline constexpr std::size_t field_count = 19;

/// The shape of a field's value, which decides how each surface reads and prints it.
enum class ValueKind : std::uint8_t {
    boolean,
    integer,             ///< unsigned, with min and max
    duration,            ///< milliseconds
    duration_seconds,    ///< a duration that must be whole seconds (socket.linger)
    protocol,
    socket_addr_list,
    tls_version_set,
    cipher_suite_set,
    ip_mask_set,
};

struct FieldSpec {
    Field field;
    std::string_view json_name;           ///< the §6 output name and the NetworkListener field
    std::string_view json_input_name;     ///< the name read from a NetworkListener object, if different
    std::string_view json_system_name;    ///< system-level JSON name, empty when there is none
    std::string_view toml_key;            ///< relative to `server.listener.<id>.`
    std::string_view toml_server_key;     ///< the server-wide TOML key, empty when there is none
    ValueKind kind;
    bool nullable;                        ///< may be unset (null in §6, `false` in TOML)
    std::uint64_t min = 0;                ///< integers: smallest value; durations: smallest milliseconds
    std::uint64_t max = 0;                ///< integers: largest value
    std::string_view default_text;        ///< the built-in default as §6 prints it ("1024", "true", "null", "60000", "[]")
    std::string_view description;
    bool stalwart_json = true;            ///< false for berth's own JSON extensions (socketLinger)

    [[nodiscard]] constexpr std::string_view json_input() const noexcept {
        return json_input_name.empty() ? json_name : json_input_name;
    }
    [[nodiscard]] constexpr bool is_list() const noexcept {
        return kind == ValueKind::socket_addr_list || kind == ValueKind::tls_version_set ||
               kind == ValueKind::cipher_suite_set || kind == ValueKind::ip_mask_set;
    }
};

inline constexpr std::uint64_t max_int32 = 2147483647;

// clang-format off
inline constexpr std::array<FieldSpec, field_count> field_specs{{
    {Field::bind, "bind", "", "", "bind", "", ValueKind::socket_addr_list, false, 1, 0, "(required)",
     "The addresses the listener will bind to."},
    {Field::protocol, "protocol", "", "", "protocol", "", ValueKind::protocol, false, 0, 0, "\"smtp\"",
     "The protocol used by the listener (required in TOML; defaults to smtp in JSON)."},
    {Field::max_connections, "maxConnections", "", "maxConnections", "max-connections", "server.max-connections",
     ValueKind::integer, false, 1, 4294967295u, "8192",
     "The maximum number of concurrent connections the listener will accept."},
    {Field::socket_reuse_address, "socketReuseAddress", "", "", "socket.reuse-addr", "server.socket.reuse-addr",
     ValueKind::boolean, false, 0, 0, "true",
     "Whether the socket can be bound to an address that is already in use by another socket (SO_REUSEADDR)."},
    {Field::socket_reuse_port, "socketReusePort", "", "", "socket.reuse-port", "server.socket.reuse-port",
     ValueKind::boolean, false, 0, 0, "true",
     "Whether multiple sockets can be bound to the same address and port (SO_REUSEPORT)."},
    {Field::socket_backlog, "socketBacklog", "", "", "socket.backlog", "server.socket.backlog",
     ValueKind::integer, false, 1, max_int32, "1024",
     "The maximum number of pending connections in the backlog queue (the kernel clamps it to net.core.somaxconn)."},
    {Field::socket_ttl, "socketTtl", "", "", "socket.ttl", "server.socket.ttl",
     ValueKind::integer, true, 1, 255, "null",
     "Time-to-live of outgoing packets (IP_TTL, IPV6_UNICAST_HOPS); unset leaves the OS default."},
    {Field::socket_send_buffer_size, "socketSendBufferSize", "", "", "socket.send-buffer-size",
     "server.socket.send-buffer-size", ValueKind::integer, true, 1, max_int32, "null",
     "The size in bytes of the send buffer (SO_SNDBUF); unset leaves the OS default and autotuning."},
    {Field::socket_receive_buffer_size, "socketReceiveBufferSize", "", "", "socket.recv-buffer-size",
     "server.socket.recv-buffer-size", ValueKind::integer, true, 1, max_int32, "null",
     "The size in bytes of the receive buffer (SO_RCVBUF); unset leaves the OS default and autotuning."},
    {Field::socket_linger, "socketLinger", "", "", "socket.linger", "server.socket.linger",
     ValueKind::duration_seconds, true, 0, 2147483647000u, "null",
     "How long close() waits for unsent data (SO_LINGER), in whole seconds; unset leaves lingering off.", false},
    {Field::socket_tos_v4, "socketTosV4", "", "", "socket.tos", "server.socket.tos",
     ValueKind::integer, true, 1, 255, "null",
     "The type-of-service byte of outgoing packets (IP_TOS, IPV6_TCLASS); unset leaves the OS default."},
    {Field::socket_no_delay, "socketNoDelay", "", "", "socket.nodelay", "server.socket.nodelay",
     ValueKind::boolean, false, 0, 0, "true",
     "Whether the Nagle algorithm is disabled (TCP_NODELAY)."},
    {Field::use_tls, "useTls", "", "", "tls.enable", "server.tls.enable",
     ValueKind::boolean, false, 0, 0, "true",
     "Whether TLS is enabled for this listener (implicit, or offered through STARTTLS)."},
    {Field::tls_implicit, "tlsImplicit", "", "", "tls.implicit", "server.tls.implicit",
     ValueKind::boolean, false, 0, 0, "false",
     "Whether the TLS handshake starts right after the connection is accepted."},
    {Field::tls_timeout, "tlsTimeout", "", "", "tls.timeout", "server.tls.timeout",
     ValueKind::duration, false, 1, 0, "60000",
     "The deadline of the TLS handshake (and of the PROXY header)."},
    {Field::tls_disable_protocols, "tlsDisableProtocols", "", "", "tls.disable-protocols",
     "server.tls.disable-protocols", ValueKind::tls_version_set, false, 0, 0, "[]",
     "TLS versions not offered; not all of them."},
    {Field::tls_disable_cipher_suites, "tlsDisableCipherSuites", "", "", "tls.disable-ciphers",
     "server.tls.disable-ciphers", ValueKind::cipher_suite_set, false, 0, 0, "[]",
     "Cipher suites not offered; not every suite of an enabled version."},
    {Field::tls_ignore_client_order, "tlsIgnoreClientOrder", "", "", "tls.ignore-client-order",
     "server.tls.ignore-client-order", ValueKind::boolean, false, 0, 0, "true",
     "Whether the server's cipher order wins over the client's."},
    {Field::proxy_trusted_networks, "proxyTrustedNetworks", "overrideProxyTrustedNetworks", "proxyTrustedNetworks",
     "proxy.trusted-networks", "server.proxy.trusted-networks", ValueKind::ip_mask_set, false, 0, 0, "[]",
     "Networks whose connections must start with a PROXY protocol header."},
}};
// clang-format on

[[nodiscard]] constexpr const FieldSpec& spec_of(Field f) noexcept {
    return field_specs[static_cast<std::size_t>(f)];
}

[[nodiscard]] constexpr std::span<const FieldSpec, field_count> all_fields() noexcept { return field_specs; }

[[nodiscard]] constexpr std::optional<Field> field_by_toml_key(std::string_view key) noexcept {
    for (const auto& s : field_specs)
        if (s.toml_key == key) return s.field;
    return std::nullopt;
}

[[nodiscard]] constexpr std::optional<Field> field_by_json_input(std::string_view name) noexcept {
    for (const auto& s : field_specs)
        if (s.json_input() == name) return s.field;
    return std::nullopt;
}

namespace detail {
constexpr bool field_table_is_ordered() noexcept {
    for (std::size_t i = 0; i < field_specs.size(); ++i)
        if (static_cast<std::size_t>(field_specs[i].field) != i) return false;
    return true;
}
static_assert(field_table_is_ordered(), "field_specs must be indexed by Field");
}  // namespace detail

}  // namespace berth
