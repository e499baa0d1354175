#pragma once
// The server for a whole resolved configuration, made from the caller's executor: every address of
// every listener bound before any accept (all or nothing, the dual-stack rule over all of them), one
// session handler, one shutdown.
//
//   asio::io_context io;
//   berth::Server server(io.get_executor(), listeners);     // std::vector<berth::ResolvedListener>
//   server.bind();                                          // throws berth::StartupError naming every failure
//   server.async_run(handler, asio::detached);              // asio::awaitable<void> handler(berth::Session&)
//   ...
//   co_await server.async_shutdown(std::chrono::seconds(10), asio::use_awaitable);
//
// berth::ServerRunner (runner.hpp) adds the threads, the io_contexts and run_until_signal.

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <utility>
#include <vector>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/detail/service_handle.hpp"
#include "berth/net/policies.hpp"

namespace berth {

/// The server's options are the acceptor's.
using ServerOptions = AcceptorOptions;

template <class Protocol = asio::ip::tcp, class Executor = asio::any_io_executor, class PolicyBundle = Policies<>>
class BasicServer final : public detail::ServiceHandle<Protocol, Executor, PolicyBundle> {
    using base = detail::ServiceHandle<Protocol, Executor, PolicyBundle>;

public:
    /// `policies` is copied in; pass std::ref(policies) to use the caller's, which must then outlive
    /// every session.
    BasicServer(const Executor& executor, std::vector<ResolvedListener> listeners, ServerOptions options = {},
                PolicyBundle policies = {})
        : base({executor}, std::move(listeners), std::move(options), std::move(policies)) {}
    BasicServer(const Executor& executor, std::vector<ResolvedListener> listeners, ServerOptions options,
                std::reference_wrapper<PolicyBundle> policies)
        : base({executor}, std::move(listeners), std::move(options), policies) {}
    /// One executor per shard: a listener with SO_REUSEPORT gets a listening socket per address on
    /// each (the kernel spreads connections); one without, a socket on the first.
    BasicServer(std::vector<Executor> shards, std::vector<ResolvedListener> listeners, ServerOptions options = {},
                PolicyBundle policies = {})
        : base(std::move(shards), std::move(listeners), std::move(options), std::move(policies)) {}
    BasicServer(std::vector<Executor> shards, std::vector<ResolvedListener> listeners, ServerOptions options,
                std::reference_wrapper<PolicyBundle> policies)
        : base(std::move(shards), std::move(listeners), std::move(options), policies) {}
};

using Server = BasicServer<>;

}  // namespace berth
