#pragma once
// The policy bundle of an acceptor and a server: one member per policy, each with a default that
// realizes the resolved listener as SPEC §5 says. Empty policies take no space ([[no_unique_address]]).
//
//   berth::Policies<>                                      every default
//   berth::Policies<>::with_overload<berth::Backpressure>  one policy replaced
//   berth::Policies<>{.tls = berth::LibraryTls<>(certificate)}   a policy with state

#include "berth/net/accept_errors.hpp"
#include "berth/net/connection_limit.hpp"
#include "berth/net/events.hpp"
#include "berth/net/overload.hpp"
#include "berth/net/proxy_reader.hpp"
#include "berth/net/socket_options.hpp"
#include "berth/net/tls.hpp"

namespace berth {

template <class SocketOptions = ListenerSocketOptions, ConnectionLimitPolicy ConnectionLimit = PerListenerLimit,
          OverloadPolicy Overload = CloseWhenFull, ProxyProtocolPolicy ProxyProtocol = ProxyV1AndV2,
          TlsPolicy Tls = LibraryTls<>, AcceptErrorPolicy AcceptErrors = DefaultAcceptErrors,
          EventHook Events = NoEvents>
struct Policies {
    using socket_options_type = SocketOptions;
    using connection_limit_type = ConnectionLimit;
    using overload_type = Overload;
    using proxy_protocol_type = ProxyProtocol;
    using tls_type = Tls;
    using accept_errors_type = AcceptErrors;
    using events_type = Events;

    template <class T>
    using with_socket_options = Policies<T, ConnectionLimit, Overload, ProxyProtocol, Tls, AcceptErrors, Events>;
    template <ConnectionLimitPolicy T>
    using with_connection_limit = Policies<SocketOptions, T, Overload, ProxyProtocol, Tls, AcceptErrors, Events>;
    template <OverloadPolicy T>
    using with_overload = Policies<SocketOptions, ConnectionLimit, T, ProxyProtocol, Tls, AcceptErrors, Events>;
    template <ProxyProtocolPolicy T>
    using with_proxy_protocol = Policies<SocketOptions, ConnectionLimit, Overload, T, Tls, AcceptErrors, Events>;
    template <TlsPolicy T>
    using with_tls = Policies<SocketOptions, ConnectionLimit, Overload, ProxyProtocol, T, AcceptErrors, Events>;
    template <AcceptErrorPolicy T>
    using with_accept_errors = Policies<SocketOptions, ConnectionLimit, Overload, ProxyProtocol, Tls, T, Events>;
    template <EventHook T>
    using with_events = Policies<SocketOptions, ConnectionLimit, Overload, ProxyProtocol, Tls, AcceptErrors, T>;

    [[no_unique_address]] SocketOptions socket_options{};
    [[no_unique_address]] ConnectionLimit connection_limit{};
    [[no_unique_address]] Overload overload{};
    [[no_unique_address]] ProxyProtocol proxy_protocol{};
    [[no_unique_address]] Tls tls{};
    [[no_unique_address]] AcceptErrors accept_errors{};
    [[no_unique_address]] Events events{};
};

}  // namespace berth
