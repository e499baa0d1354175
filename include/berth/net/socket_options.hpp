#pragma once
// The socket-option policy: what is set on a listening socket before bind() (then listen(backlog)),
// and on each accepted socket right after accept() (SPEC §5), and the dual-stack rule for IPv6.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <climits>
#include <concepts>
#include <cstdint>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "berth/model/resolved_listener.hpp"
#include "berth/model/socket_addr.hpp"

namespace berth {

namespace detail {

/// An int-valued socket option (Asio's SettableSocketOption / GettableSocketOption) for options Asio
/// has no type for: SO_REUSEPORT, IP_TOS, IPV6_TCLASS, IP_TTL. Asio's get_option halves SO_SNDBUF and
/// SO_RCVBUF on Linux, for every option type; setting is passed through unchanged.
template <int Level, int Name>
class IntOption {
public:
    IntOption() = default;
    explicit IntOption(int value) noexcept : value_(value) {}
    [[nodiscard]] int value() const noexcept { return value_; }

    template <class Protocol> int level(const Protocol&) const noexcept { return Level; }
    template <class Protocol> int name(const Protocol&) const noexcept { return Name; }
    template <class Protocol> int* data(const Protocol&) noexcept { return &value_; }
    template <class Protocol> const int* data(const Protocol&) const noexcept { return &value_; }
    template <class Protocol> std::size_t size(const Protocol&) const noexcept { return sizeof value_; }
    template <class Protocol> void resize(const Protocol&, std::size_t size) const {
        if (size != sizeof value_) throw std::length_error("berth: unexpected socket option size");
    }

private:
    int value_ = 0;
};

/// SO_LINGER as the kernel takes it. (Asio's own linger type works the same; this one keeps the two
/// fields explicit where the accepted socket is configured.)
class LingerOption {
public:
    LingerOption(bool on, int seconds) noexcept {
        value_.l_onoff = on ? 1 : 0;
        value_.l_linger = seconds;
    }
    template <class Protocol> int level(const Protocol&) const noexcept { return SOL_SOCKET; }
    template <class Protocol> int name(const Protocol&) const noexcept { return SO_LINGER; }
    template <class Protocol> const ::linger* data(const Protocol&) const noexcept { return &value_; }
    template <class Protocol> std::size_t size(const Protocol&) const noexcept { return sizeof value_; }

private:
    ::linger value_{};
};

}  // namespace detail

namespace socket_option {
using reuse_address = detail::IntOption<SOL_SOCKET, SO_REUSEADDR>;
using reuse_port = detail::IntOption<SOL_SOCKET, SO_REUSEPORT>;
using send_buffer = detail::IntOption<SOL_SOCKET, SO_SNDBUF>;
using receive_buffer = detail::IntOption<SOL_SOCKET, SO_RCVBUF>;
using ip_tos = detail::IntOption<IPPROTO_IP, IP_TOS>;
using ipv6_tclass = detail::IntOption<IPPROTO_IPV6, IPV6_TCLASS>;
using ipv6_v6only = detail::IntOption<IPPROTO_IPV6, IPV6_V6ONLY>;
using tcp_nodelay = detail::IntOption<IPPROTO_TCP, TCP_NODELAY>;
using ip_ttl = detail::IntOption<IPPROTO_IP, IP_TTL>;
using ipv6_unicast_hops = detail::IntOption<IPPROTO_IPV6, IPV6_UNICAST_HOPS>;
using linger = detail::LingerOption;
}  // namespace socket_option

/// One listening socket to be set up: the address, the IPV6_V6ONLY decision for an IPv6 address,
/// and which shard (one per thread when SO_REUSEPORT sharding is on) it serves.
struct BindPlan {
    SocketAddr address;
    std::optional<bool> v6_only;  ///< set for IPv6 addresses only
    std::size_t shard = 0;
};

/// What the acceptor knows about an accepted connection when the accepted-socket options are set.
struct AcceptedSocket {
    SocketAddr tcp_peer;        ///< as the kernel reports it (an IPv4 peer of a dual-stack socket is ::ffff:a.b.c.d)
    bool listening_v6 = false;  ///< the listening socket is AF_INET6
};

/// The option that failed and why; empty (false) on success.
struct OptionFailure {
    std::string_view option;
    std::error_code error;
    explicit operator bool() const noexcept { return static_cast<bool>(error); }
};

/// SPEC §5's dual-stack rule: `[::]:P` is dual-stack (IPV6_V6ONLY = 0) unless some listener also binds
/// `0.0.0.0:P` (then 1, so both can bind); a specific IPv6 address gets 1. Nothing for IPv4.
[[nodiscard]] inline std::optional<bool> dual_stack_v6_only(const SocketAddr& address,
                                                            std::span<const ResolvedListener> listeners) {
    if (!address.address().is_v6()) return std::nullopt;
    if (!address.address().is_unspecified()) return true;
    for (const auto& listener : listeners)
        for (const auto& other : listener.bind)
            if (other.address().is_v4() && other.address().is_unspecified() && other.port() == address.port())
                return true;
    return false;
}

/// A socket-option policy: sets options on the listening socket before bind() and on every accepted
/// socket right after accept(), and names the listen() backlog.
template <class P, class Acceptor, class Socket>
concept SocketOptionPolicy = requires(const P& policy, const ResolvedListener& listener, const BindPlan& plan,
                                      Acceptor& acceptor, const AcceptedSocket& accepted, Socket& socket) {
    { policy.apply_to_listening(listener, plan, acceptor) } -> std::same_as<OptionFailure>;
    { policy.apply_to_accepted(listener, accepted, socket) } -> std::same_as<OptionFailure>;
    { policy.backlog(listener) } -> std::convertible_to<int>;
};

/// The default: exactly what the resolved listener says, in SPEC §5's order.
struct ListenerSocketOptions {
    /// SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_RCVBUF, IP_TOS (IPv4) or IPV6_TCLASS (IPv6), then
    /// IPV6_V6ONLY for IPv6. A dual-stack `[::]` socket also gets IP_TOS, which Linux applies to its
    /// IPv4 traffic: `socketTosV4` is meant for IPv4, and that socket carries IPv4 too.
    template <class Acceptor>
    OptionFailure apply_to_listening(const ResolvedListener& listener, const BindPlan& plan, Acceptor& acceptor) const {
        std::error_code ec;
        const bool v6 = plan.address.address().is_v6();
        acceptor.set_option(socket_option::reuse_address(listener.socket_reuse_address ? 1 : 0), ec);
        if (ec) return {"SO_REUSEADDR", ec};
        acceptor.set_option(socket_option::reuse_port(listener.socket_reuse_port ? 1 : 0), ec);
        if (ec) return {"SO_REUSEPORT", ec};
        if (listener.socket_send_buffer_size) {
            acceptor.set_option(socket_option::send_buffer(static_cast<int>(*listener.socket_send_buffer_size)), ec);
            if (ec) return {"SO_SNDBUF", ec};
        }
        if (listener.socket_receive_buffer_size) {
            acceptor.set_option(socket_option::receive_buffer(static_cast<int>(*listener.socket_receive_buffer_size)),
                                ec);
            if (ec) return {"SO_RCVBUF", ec};
        }
        if (listener.socket_tos_v4) {
            const int tos = *listener.socket_tos_v4;
            if (v6) {
                acceptor.set_option(socket_option::ipv6_tclass(tos), ec);
                if (ec) return {"IPV6_TCLASS", ec};
            }
            if (!v6 || plan.v6_only == false) {
                acceptor.set_option(socket_option::ip_tos(tos), ec);
                if (ec) return {"IP_TOS", ec};
            }
        }
        if (v6 && plan.v6_only) {
            acceptor.set_option(socket_option::ipv6_v6only(*plan.v6_only ? 1 : 0), ec);
            if (ec) return {"IPV6_V6ONLY", ec};
        }
        return {};
    }

    /// TCP_NODELAY, IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6; plus IP_TTL for an IPv4 peer of a
    /// dual-stack socket, whose packets are IPv4), SO_LINGER.
    template <class Socket>
    OptionFailure apply_to_accepted(const ResolvedListener& listener, const AcceptedSocket& accepted,
                                    Socket& socket) const {
        std::error_code ec;
        socket.set_option(socket_option::tcp_nodelay(listener.socket_no_delay ? 1 : 0), ec);
        if (ec) return {"TCP_NODELAY", ec};
        if (listener.socket_ttl) {
            const int ttl = *listener.socket_ttl;
            if (accepted.listening_v6) {
                socket.set_option(socket_option::ipv6_unicast_hops(ttl), ec);
                if (ec) return {"IPV6_UNICAST_HOPS", ec};
            }
            if (!accepted.listening_v6 || accepted.tcp_peer.address().mapped_v4()) {
                socket.set_option(socket_option::ip_ttl(ttl), ec);
                if (ec) return {"IP_TTL", ec};
            }
        }
        if (listener.socket_linger) {
            const std::uint64_t seconds = listener.socket_linger->milliseconds() / 1000;
            const int clamped = seconds > static_cast<std::uint64_t>(INT_MAX) ? INT_MAX : static_cast<int>(seconds);
            socket.set_option(socket_option::linger(true, clamped), ec);
            if (ec) return {"SO_LINGER", ec};
        }
        return {};
    }

    [[nodiscard]] int backlog(const ResolvedListener& listener) const noexcept {
        return static_cast<int>(listener.socket_backlog);
    }
};

}  // namespace berth
