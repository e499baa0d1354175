#pragma once
// The acceptor for one resolved listener, in Asio's shape: BasicAcceptor<Protocol, Executor,
// Policies>, made from the caller's executor (an io_context's, a thread_pool's, a strand). It binds
// every address of the listener (all or nothing), then accepts on each until a shutdown:
//
//   asio::io_context io;
//   berth::Acceptor acceptor(io.get_executor(), listener);   // a berth::ResolvedListener
//   acceptor.bind();                                         // throws berth::StartupError
//   acceptor.async_run(handler, asio::detached);             // asio::awaitable<void> handler(berth::Session&)
//   ...
//   co_await acceptor.async_shutdown(std::chrono::seconds(10), asio::use_awaitable);
//
// Given several executors (one per thread, each with its own io_context), a listener with SO_REUSEPORT
// gets a listening socket per address on each, and the kernel spreads the connections over them.

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/detail/service_handle.hpp"
#include "berth/net/policies.hpp"

namespace berth {

template <class Protocol = asio::ip::tcp, class Executor = asio::any_io_executor, class PolicyBundle = Policies<>>
class BasicAcceptor final : public detail::ServiceHandle<Protocol, Executor, PolicyBundle> {
    using base = detail::ServiceHandle<Protocol, Executor, PolicyBundle>;

public:
    /// `policies` is copied in; pass std::ref(policies) to use the caller's, which must then outlive
    /// every session.
    BasicAcceptor(const Executor& executor, ResolvedListener listener, AcceptorOptions options = {},
                  PolicyBundle policies = {})
        : base({executor}, {std::move(listener)}, std::move(options), std::move(policies)) {}
    BasicAcceptor(const Executor& executor, ResolvedListener listener, AcceptorOptions options,
                  std::reference_wrapper<PolicyBundle> policies)
        : base({executor}, {std::move(listener)}, std::move(options), policies) {}
    /// One executor per shard (see above); sessions run on the executor of the socket that accepted them.
    BasicAcceptor(std::vector<Executor> shards, ResolvedListener listener, AcceptorOptions options = {},
                  PolicyBundle policies = {})
        : base(std::move(shards), {std::move(listener)}, std::move(options), std::move(policies)) {}
    BasicAcceptor(std::vector<Executor> shards, ResolvedListener listener, AcceptorOptions options,
                  std::reference_wrapper<PolicyBundle> policies)
        : base(std::move(shards), {std::move(listener)}, std::move(options), policies) {}

    [[nodiscard]] const ResolvedListener& listener() const noexcept { return this->configuration().front(); }
    [[nodiscard]] const ConnectionCounter& connections() const { return base::connections(listener().name); }
    [[nodiscard]] ListenerStatsSnapshot stats() const { return base::stats(listener().name); }
    /// The first bound address (handy with port 0).
    [[nodiscard]] std::optional<SocketAddr> local_address() const { return base::local_address(listener().name); }
    using base::connections;
    using base::local_address;
    using base::stats;
};

using Acceptor = BasicAcceptor<>;

}  // namespace berth
