#pragma once
// What BasicAcceptor and BasicServer have in common: a handle to the run-time core, with the
// set-up, the two asynchronous entry points and the inspection members. Destroying a handle that is
// still running stops accepting and cancels the sessions, as destroying an Asio I/O object cancels
// its operations; the core goes once its accept loops and sessions have finished.

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/connection_limit.hpp"
#include "berth/net/detail/service_core.hpp"
#include "berth/net/detail/stored_completion.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/session.hpp"
#include "berth/net/session_handler.hpp"
#include "berth/net/socket_options.hpp"

namespace berth::detail {

template <class Protocol, class Executor, class PolicyBundle>
class ServiceHandle {
    static_assert(SocketOptionPolicy<typename PolicyBundle::socket_options_type,
                                     asio::basic_socket_acceptor<Protocol, asio::any_io_executor>,
                                     typename BasicSession<Protocol>::socket_type>,
                  "the socket-option policy must model berth::SocketOptionPolicy for this protocol");

public:
    using protocol_type = Protocol;
    using executor_type = Executor;
    using policies_type = PolicyBundle;
    using session_type = BasicSession<Protocol>;

    ServiceHandle(ServiceHandle&&) noexcept = default;
    ServiceHandle& operator=(ServiceHandle&& other) noexcept {
        if (this != &other) {
            abandon();
            core_ = std::move(other.core_);
        }
        return *this;
    }
    ServiceHandle(const ServiceHandle&) = delete;
    ServiceHandle& operator=(const ServiceHandle&) = delete;

    /// The first executor given: the default executor of the completions.
    [[nodiscard]] executor_type get_executor() const noexcept { return core_->shards().front(); }

    /// Sets up every address (TLS contexts, sockets, options, bind, listen). All or nothing: on any
    /// failure every socket opened so far is closed, and the error names each failed address or
    /// listener, its configuration key and the reason.
    void bind() {
        std::error_code ec;
        bind(ec);
        if (ec == NetError::startup_failed) throw StartupError(core_->startup_failures());
        if (ec) throw std::system_error(ec, "berth: bind");
    }
    void bind(std::error_code& ec) { core_->bind(ec); }

    /// Every problem the last bind() found.
    [[nodiscard]] const std::vector<StartupFailure>& startup_failures() const noexcept {
        return core_->startup_failures();
    }
    /// Each configured address with the address it is bound to (port 0 resolved to the real port).
    [[nodiscard]] std::vector<BoundEndpoint> bound_endpoints() const { return core_->bound_endpoints(); }
    /// The first bound address of a listener (handy with port 0).
    [[nodiscard]] std::optional<SocketAddr> local_address(std::string_view listener) const {
        for (const auto& endpoint : bound_endpoints())
            if (endpoint.listener == listener) return endpoint.local;
        return std::nullopt;
    }
    [[nodiscard]] std::vector<ListeningSocket> listening_sockets() const { return core_->listening_sockets(); }

    /// Accepts on every bound socket until a shutdown, and runs `handler` on each ready session (see
    /// session_handler.hpp; the handler is kept, shared by every session and called concurrently).
    /// Completes with `void(std::error_code)` once accepting has stopped and the last session is gone;
    /// at once with NetError::not_bound or NetError::already_started when it cannot run. From any
    /// thread; the completion runs on its own associated executor (this object's by default).
    template <class Handler, class Token = asio::default_completion_token_t<Executor>>
        requires SessionHandler<Handler, session_type>
    auto async_run(Handler handler, Token&& token = asio::default_completion_token_t<Executor>{}) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [core = core_](auto completion, Handler session_handler) {
                StoredCompletion<std::error_code> stored(std::move(completion), core->shards().front());
                core->run(std::move(session_handler), std::move(stored));
            },
            token, std::move(handler));
    }

    /// Stops accepting and closes every listening socket at once, lets the sessions finish within
    /// `grace` (Session::server_stopping() tells them), then cancels the rest (a terminal cancellation
    /// and their sockets closed). Completes with `void()` when the last session is gone. From any
    /// thread, a session handler's included.
    template <class Token = asio::default_completion_token_t<Executor>>
    auto async_shutdown(std::chrono::milliseconds grace,
                        Token&& token = asio::default_completion_token_t<Executor>{}) {
        return asio::async_initiate<Token, void()>(
            [core = core_](auto completion, std::chrono::milliseconds grace_period) {
                StoredCompletion<> stored(std::move(completion), core->shards().front());
                core->shutdown(grace_period, std::move(stored));
            },
            token, grace);
    }

    /// The first half of a shutdown, without waiting: stop accepting and close every listening socket.
    void request_stop() { core_->request_stop(); }
    /// Every live session gets a terminal cancellation and its socket closed, on its own executor.
    void cancel_sessions() { core_->cancel_sessions(); }
    /// Only while no thread runs any of the executors, and none will before their contexts are
    /// destroyed: closes every listening socket and lets go of the accept loops at once.
    void close_now() noexcept { core_->close_now(); }

    /// bind() succeeded and async_run has not been called yet.
    [[nodiscard]] bool bound() const noexcept { return core_->bound(); }
    /// async_run is running: bound, started, and not yet finished.
    [[nodiscard]] bool running() const noexcept { return core_->running(); }
    /// Sessions alive now (from accept to close, PROXY reads and refusals included).
    [[nodiscard]] std::size_t live_sessions() const noexcept { return core_->live_sessions(); }
    /// A listener's connection counter (live permits, limit, peak) and event counters.
    [[nodiscard]] const ConnectionCounter& connections(std::string_view listener) const {
        return core_->listener(listener).connections;
    }
    [[nodiscard]] ListenerStatsSnapshot stats(std::string_view listener) const {
        return core_->listener(listener).stats.snapshot();
    }
    [[nodiscard]] PolicyBundle& policies() noexcept { return core_->policies(); }
    [[nodiscard]] const std::vector<ResolvedListener>& configuration() const noexcept {
        return core_->configuration();
    }

protected:
    using core_type = ServiceCore<Protocol, Executor, PolicyBundle>;

    ServiceHandle(std::vector<Executor> shards, std::vector<ResolvedListener> listeners, AcceptorOptions options,
                  PolicyBundle policies)
        : core_(std::make_shared<core_type>(std::move(shards), std::move(listeners), std::move(options),
                                            std::make_unique<PolicyBundle>(std::move(policies)), nullptr)) {}
    ServiceHandle(std::vector<Executor> shards, std::vector<ResolvedListener> listeners, AcceptorOptions options,
                  std::reference_wrapper<PolicyBundle> policies)
        : core_(std::make_shared<core_type>(std::move(shards), std::move(listeners), std::move(options),
                                            nullptr, &policies.get())) {}
    ~ServiceHandle() { abandon(); }

private:
    void abandon() noexcept {
        if (!core_) return;
        try {
            core_->request_stop();
            core_->cancel_sessions();
        } catch (...) {  // out of memory for the posts: the sessions end on their own, or with their context
        }
        core_.reset();
    }

    std::shared_ptr<core_type> core_;
};

}  // namespace berth::detail
