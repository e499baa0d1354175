#pragma once
// The server over a whole resolved configuration: every address of every listener bound before any
// accept (all or nothing), N threads, a strand per session, and a two-phase shutdown.
//
//   berth::Server server(listeners);              // std::vector<berth::ResolvedListener>
//   server.bind();                                // throws berth::StartupError naming every failure
//   server.start(handler);                        // asio::awaitable<void> handler(berth::Session&)
//   ...
//   server.shutdown(std::chrono::seconds(10));    // stop accepting, grace period, cancel the rest

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "berth/model/field.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/net/acceptor.hpp"
#include "berth/net/detail/server_shared.hpp"
#include "berth/net/endpoint.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/session.hpp"
#include "berth/net/session_handler.hpp"
#include "berth/net/socket_options.hpp"

namespace berth {

struct ServerOptions {
    /// I/O threads. With more than one, and SO_REUSEPORT on every listener, each thread has its own
    /// io_context and its own listening socket per address (the kernel spreads connections); otherwise
    /// all threads share one io_context, and each session and each acceptor gets its own strand.
    std::size_t threads = 1;
    /// shutdown()'s default grace period.
    std::chrono::milliseconds grace_period{10000};
    /// After the grace period, how long cancelled sessions get to unwind before the remaining
    /// operations are destroyed.
    std::chrono::milliseconds cancel_wait{2000};
};

/// One configured address, as bound.
struct BoundEndpoint {
    std::string listener;
    SocketAddr configured;  ///< as written (port 0 when the OS chose)
    SocketAddr local;       ///< what the socket is bound to: the real port
};

/// One listening socket (several per address when sharded), for inspection.
struct ListeningSocket {
    std::string listener;
    SocketAddr local;
    std::size_t shard = 0;
    int native_handle = -1;
};

template <class Protocol = asio::ip::tcp, class Executor = asio::any_io_executor, class PolicyBundle = Policies<>>
class BasicServer {
public:
    using protocol_type = Protocol;
    using executor_type = Executor;
    using policies_type = PolicyBundle;
    using acceptor_type = BasicAcceptor<Protocol, Executor, PolicyBundle>;
    using session_type = BasicSession<Protocol>;

    explicit BasicServer(std::vector<ResolvedListener> listeners, ServerOptions options = {},
                         PolicyBundle policies = {})
        : policies_(std::move(policies)), options_(options), configured_(std::move(listeners)) {
        if (options_.threads == 0) options_.threads = 1;
    }
    BasicServer(const BasicServer&) = delete;
    BasicServer& operator=(const BasicServer&) = delete;
    ~BasicServer() {
        try {
            shutdown(std::chrono::milliseconds(0));
        } catch (...) {  // a destructor must not throw; shutdown only throws when misused from an I/O thread
        }
    }

    /// Sets up every address of every listener (TLS contexts, sockets, options, bind, listen). All or
    /// nothing: on any failure every socket opened so far is closed, and the error names each failed
    /// address or listener, its configuration key and the reason.
    void bind() {
        std::error_code ec;
        bind(ec);
        if (ec == NetError::startup_failed) throw StartupError(failures_);
        if (ec) throw std::system_error(ec, "berth: bind");
    }
    void bind(std::error_code& ec) {
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        ec.clear();
        failures_.clear();
        if (phase_ != Phase::created) {
            ec = make_error_code(NetError::already_started);
            return;
        }
        prepare_listeners();
        create_contexts();
        bind_sockets();
        if (failures_.empty()) listen_sockets();
        if (!failures_.empty()) {
            {
                std::lock_guard<std::mutex> acceptors_lock(acceptors_mutex_);
                for (auto& acceptor : acceptors_) acceptor->close_now();
                acceptors_.clear();
            }
            shared_.permits.clear();
            contexts_.clear();
            listeners_.clear();
            ec = make_error_code(NetError::startup_failed);
            return;
        }
        phase_ = Phase::bound;
    }

    /// Every problem the last bind() found.
    [[nodiscard]] const std::vector<StartupFailure>& startup_failures() const noexcept { return failures_; }

    /// Each configured address with the address it is bound to (port 0 resolved to the real port).
    [[nodiscard]] std::vector<BoundEndpoint> bound_endpoints() const {
        std::lock_guard<std::mutex> lock(acceptors_mutex_);
        std::vector<BoundEndpoint> endpoints;
        for (const auto& acceptor : acceptors_)
            if (acceptor->plan().shard == 0)
                endpoints.push_back({acceptor->listener().name, configured_address(*acceptor),
                                     to_socket_addr(acceptor->local_endpoint())});
        return endpoints;
    }
    /// The first bound address of a listener (handy with port 0).
    [[nodiscard]] std::optional<SocketAddr> local_address(std::string_view listener) const {
        for (const auto& endpoint : bound_endpoints())
            if (endpoint.listener == listener) return endpoint.local;
        return std::nullopt;
    }
    [[nodiscard]] std::vector<ListeningSocket> listening_sockets() {
        std::lock_guard<std::mutex> lock(acceptors_mutex_);
        std::vector<ListeningSocket> sockets;
        for (const auto& acceptor : acceptors_)
            sockets.push_back({acceptor->listener().name, to_socket_addr(acceptor->local_endpoint()),
                               acceptor->plan().shard, static_cast<int>(acceptor->socket().native_handle())});
        return sockets;
    }

    /// Starts accepting on every bound socket and the I/O threads. The handler is copied into the
    /// server; it is shared by every session and called concurrently.
    template <class Handler>
        requires SessionHandler<Handler, session_type>
    void start(Handler handler, std::error_code& ec) {
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        launch(std::move(handler), 0, ec);
    }
    template <class Handler>
        requires SessionHandler<Handler, session_type>
    void start(Handler handler) {
        std::error_code ec;
        start(std::move(handler), ec);
        if (ec) throw std::system_error(ec, "berth: start");
    }

    /// Starts the server and serves on the calling thread until one of `stop_signals` arrives, then shuts
    /// down as shutdown(grace) does (accepting stops at once, sessions get `grace` to finish, the rest are
    /// cancelled) and returns the signal's number; 0 when shutdown() from another thread ended it. The
    /// calling thread is the first I/O thread and threads - 1 more are started, so with one thread the
    /// process runs no thread of berth's: a single-threaded process takes no reference on a file for
    /// each system call on a descriptor, and makes no cancellation bookkeeping around blocking calls.
    /// The signals are caught with asio::signal_set: they must not be blocked in every thread.
    /// `on_signal`, when given, is called with the signal's number on an I/O thread as the shutdown begins.
    template <class Handler>
        requires SessionHandler<Handler, session_type>
    int run_until_signal(Handler handler, std::initializer_list<int> stop_signals, std::chrono::milliseconds grace,
                         std::function<void(int)> on_signal = {}) {
        {
            std::lock_guard<std::mutex> lock(lifecycle_mutex_);
            std::error_code ec;
            launch(std::move(handler), 1, ec);
            if (ec) throw std::system_error(ec, "berth: run_until_signal");
            std::lock_guard<std::mutex> home_lock(home_mutex_);
            home_active_ = true;
        }
        std::atomic<int> received{0};
        {
            asio::io_context& home = *contexts_[0];
            asio::signal_set signals(home);
            for (const int number : stop_signals) signals.add(number);
            asio::steady_timer poll(home);
            signals.async_wait([this, &received, &poll, &on_signal, grace](std::error_code ec, int number) {
                if (ec) return;
                received.store(number);
                if (on_signal) on_signal(number);
                request_stop();
                when_idle(poll, std::chrono::steady_clock::now() + grace, [this, &poll](bool idle) {
                    if (idle) return stop_contexts();
                    cancel_all_sessions();
                    when_idle(poll, std::chrono::steady_clock::now() + options_.cancel_wait,
                              [this](bool) { stop_contexts(); });
                });
            });
            run_context(home);
            std::lock_guard<std::mutex> lock(threads_mutex_);
            io_threads_.erase(std::remove(io_threads_.begin(), io_threads_.end(), std::this_thread::get_id()),
                              io_threads_.end());
        }  // the signal set and the timer go before the contexts do
        {
            std::lock_guard<std::mutex> home_lock(home_mutex_);
            home_active_ = false;
        }
        home_done_.notify_all();
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (phase_ == Phase::running) {  // not already shut down from another thread
            stop_contexts();
            join_threads();
            release();
        }
        return received.load();
    }

    /// Phase one only, from any thread (a session handler too), without waiting: stop accepting and
    /// close every listening socket at once. Sessions keep running.
    void request_stop() {
        shared_.stopping.store(true, std::memory_order_release);
        std::lock_guard<std::mutex> lock(acceptors_mutex_);
        for (auto& acceptor : acceptors_) acceptor->stop();
    }

    /// Both phases, waiting: stop accepting and close the listening sockets at once, let sessions finish
    /// within `grace`, then cancel the rest (terminal cancellation and their sockets closed) and, after
    /// `cancel_wait`, destroy whatever is still pending. Every permit is given back when it returns.
    /// Not from one of the server's own threads (use request_stop() there).
    void shutdown(std::chrono::milliseconds grace) {
        if (is_io_thread()) throw std::logic_error("berth: shutdown() from a server thread; use request_stop()");
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (phase_ == Phase::running) {
            request_stop();
            const auto now = std::chrono::steady_clock::now();
            if (!shared_.wait_idle_until(now + grace)) {
                cancel_all_sessions();
                shared_.wait_idle_until(std::chrono::steady_clock::now() + options_.cancel_wait);
            }
            stop_contexts();
            join_threads();
            // A thread serving in run_until_signal leaves the context's run() on its own: wait for it.
            std::unique_lock<std::mutex> home_lock(home_mutex_);
            home_done_.wait(home_lock, [this] { return !home_active_; });
        }
        release();
    }
    void shutdown() { shutdown(options_.grace_period); }

    [[nodiscard]] bool running() const noexcept { return phase_ == Phase::running; }
    /// One io_context per thread with SO_REUSEPORT sharding, rather than one shared io_context.
    [[nodiscard]] bool sharded() const noexcept { return sharded_; }
    /// Sessions alive now (from accept to close, PROXY reads and refusals included).
    [[nodiscard]] std::size_t live_sessions() const noexcept {
        return shared_.live_sessions.load(std::memory_order_acquire);
    }

    /// A listener's connection counter (live permits, limit, peak) and event counters.
    [[nodiscard]] const ConnectionCounter& connections(std::string_view listener) const {
        return runtime(listener).connections;
    }
    [[nodiscard]] ListenerStatsSnapshot stats(std::string_view listener) const {
        return runtime(listener).stats.snapshot();
    }
    [[nodiscard]] PolicyBundle& policies() noexcept { return policies_; }
    [[nodiscard]] const std::vector<ResolvedListener>& configuration() const noexcept { return configured_; }

private:
    enum class Phase { created, bound, running, stopped };

    struct HandlerHolderBase {
        virtual ~HandlerHolderBase() = default;
    };
    template <class Handler>
    struct HandlerHolder final : HandlerHolderBase {
        explicit HandlerHolder(Handler h) : handler(std::move(h)) {}
        Handler handler;
    };

    const detail::ListenerRuntime& runtime(std::string_view name) const {
        for (const auto& listener : listeners_)
            if (listener->config.name == name) return *listener;
        throw std::out_of_range("berth: no listener named " + std::string(name));
    }

    static std::string key_of(const ResolvedListener& listener, Field field) {
        const Source& source = listener.source_of(field);
        if (!source.is_default()) return source.path.str();
        return "listener \"" + listener.name + "\"";
    }

    static SocketAddr configured_address(const acceptor_type& acceptor) {
        for (const SocketAddr& address : acceptor.listener().bind)
            if (address.address() == acceptor.plan().address.address() &&
                (address.port() == acceptor.plan().address.port() || address.port() == 0))
                return address;
        return acceptor.plan().address;
    }

    /// Listener runtimes and their TLS contexts; a TLS or PROXY problem is recorded, not thrown.
    void prepare_listeners() {
        for (const ResolvedListener& config : configured_) {
            auto runtime = std::make_unique<detail::ListenerRuntime>(config);
            TlsContextFailure tls_failure;
            runtime->tls_context = policies_.tls.make_context(config, tls_failure);
            if (tls_failure.error)
                failures_.push_back({config.name, std::nullopt, key_of(config, tls_failure.field), "TLS context",
                                     tls_failure.error, tls_failure.detail});
            if (config.uses_proxy_protocol() && !policies_.proxy_protocol.accepts(ProxyVersion::v1) &&
                !policies_.proxy_protocol.accepts(ProxyVersion::v2))
                failures_.push_back({config.name, std::nullopt, key_of(config, Field::proxy_trusted_networks),
                                     "PROXY protocol", make_error_code(NetError::proxy_protocol_unavailable), {}});
            listeners_.push_back(std::move(runtime));
        }
    }

    void create_contexts() {
        bool every_listener_reuses_port = !configured_.empty();
        for (const ResolvedListener& config : configured_)
            every_listener_reuses_port = every_listener_reuses_port && config.socket_reuse_port;
        sharded_ = options_.threads > 1 && every_listener_reuses_port;
        const std::size_t count = sharded_ ? options_.threads : 1;
        // A context that one thread runs needs no locks around its sockets' reactor state: every socket
        // is used on that thread only (other threads only post to it). The scheduler keeps its lock, so
        // posting from anywhere stays safe. On a shared context, several threads touch the sockets.
        const int hint = options_.threads == 1 || sharded_ ? ASIO_CONCURRENCY_HINT_UNSAFE_IO
                                                            : static_cast<int>(options_.threads);
        for (std::size_t i = 0; i < count; ++i) contexts_.push_back(std::make_unique<asio::io_context>(hint));
    }

    /// A context run by one thread is already a strand; one run by several needs explicit strands.
    [[nodiscard]] bool needs_strands() const noexcept { return !sharded_ && options_.threads > 1; }

    Executor acceptor_executor(std::size_t shard) {
        if (!needs_strands()) return Executor(contexts_[shard]->get_executor());
        return Executor(asio::make_strand(contexts_[0]->get_executor()));
    }

    void bind_sockets() {
        std::lock_guard<std::mutex> lock(acceptors_mutex_);
        for (auto& runtime : listeners_) {
            const ResolvedListener& config = runtime->config;
            for (const SocketAddr& address : config.bind) {
                BindPlan plan{address, dual_stack_v6_only(address, configured_), 0};
                for (std::size_t shard = 0; shard < contexts_.size(); ++shard) {
                    plan.shard = shard;
                    auto acceptor = std::make_unique<acceptor_type>(
                        acceptor_executor(shard), contexts_[shard]->get_executor(), needs_strands(), *runtime, policies_,
                        shared_, plan);
                    if (auto failure = acceptor->open_and_bind()) {
                        failures_.push_back({config.name, address, key_of(config, Field::bind), failure->step,
                                             failure->error, {}});
                        break;  // the other shards of this address would fail the same way
                    }
                    // Port 0: the first socket got a port from the OS; the other shards share it.
                    if (shard == 0) plan.address = to_socket_addr(acceptor->local_endpoint());
                    acceptors_.push_back(std::move(acceptor));
                }
            }
        }
    }

    void listen_sockets() {
        std::lock_guard<std::mutex> lock(acceptors_mutex_);
        for (auto& acceptor : acceptors_)
            if (auto failure = acceptor->listen())
                failures_.push_back({acceptor->listener().name, configured_address(*acceptor),
                                     key_of(acceptor->listener(), Field::bind), failure->step, failure->error, {}});
    }

    /// Starts the acceptors, and the I/O threads from the `first_thread`-th on (the ones before it are
    /// the caller's). Under lifecycle_mutex_.
    template <class Handler>
    void launch(Handler handler, std::size_t first_thread, std::error_code& ec) {
        ec.clear();
        if (phase_ != Phase::bound) {
            ec = make_error_code(phase_ == Phase::created ? NetError::not_bound : NetError::already_started);
            return;
        }
        auto holder = std::make_unique<HandlerHolder<Handler>>(std::move(handler));
        Handler& stored = holder->handler;
        handler_ = std::move(holder);
        {
            std::lock_guard<std::mutex> acceptors_lock(acceptors_mutex_);
            for (auto& acceptor : acceptors_) acceptor->start(stored);
        }
        for (std::size_t i = first_thread; i < options_.threads; ++i) {
            asio::io_context& context = *contexts_[sharded_ ? i : 0];
            threads_.emplace_back([this, &context] { run_context(context); });
        }
        phase_ = Phase::running;
    }

    void join_threads() {
        for (auto& thread : threads_) thread.join();
        threads_.clear();
    }

    /// The end of shutdown, once no I/O thread runs: closes and destroys everything but the handler.
    void release() {
        if (phase_ != Phase::running && phase_ != Phase::bound) return;
        shared_.permits.close();
        {
            std::lock_guard<std::mutex> acceptors_lock(acceptors_mutex_);
            for (auto& acceptor : acceptors_) acceptor->close_now();
            acceptors_.clear();  // sessions held only by the registries end here
        }
        contexts_.clear();  // pending operations are destroyed: their sessions end, permits come back
        phase_ = Phase::stopped;
    }

    void cancel_all_sessions() {
        std::lock_guard<std::mutex> acceptors_lock(acceptors_mutex_);
        for (auto& acceptor : acceptors_) acceptor->cancel_sessions();
    }

    void stop_contexts() {
        for (auto& context : contexts_) context->stop();
    }

    /// run_until_signal's wait for the sessions to end, on an I/O thread that must not block: looks every
    /// 10 ms, and calls `then(idle)` once no session is left or at `deadline`.
    template <class Then>
    void when_idle(asio::steady_timer& poll, std::chrono::steady_clock::time_point deadline, Then then) {
        const bool idle = live_sessions() == 0;
        if (idle || std::chrono::steady_clock::now() >= deadline) return then(idle);
        poll.expires_after(std::chrono::milliseconds(10));
        poll.async_wait([this, &poll, deadline, then = std::move(then)](std::error_code) mutable {
            when_idle(poll, deadline, std::move(then));
        });
    }

    void run_context(asio::io_context& context) {
        {
            std::lock_guard<std::mutex> lock(threads_mutex_);
            io_threads_.push_back(std::this_thread::get_id());
        }
        for (;;) {
            try {
                context.run();
                return;
            } catch (...) {
                // An exception thrown by a completion handler outside any session (a callback-style
                // handler): the thread keeps serving the others.
            }
        }
    }

    [[nodiscard]] bool is_io_thread() const {
        std::lock_guard<std::mutex> lock(threads_mutex_);
        return std::find(io_threads_.begin(), io_threads_.end(), std::this_thread::get_id()) != io_threads_.end();
    }

    // Destroyed in reverse order: acceptors, then contexts (with whatever is pending), then the handler,
    // the shared state and the listener runtimes that sessions reference until the very end.
    PolicyBundle policies_;
    ServerOptions options_;
    std::vector<ResolvedListener> configured_;
    std::vector<StartupFailure> failures_;
    std::vector<std::unique_ptr<detail::ListenerRuntime>> listeners_;
    detail::ServerShared shared_;
    std::unique_ptr<HandlerHolderBase> handler_;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    mutable std::mutex acceptors_mutex_;
    std::vector<std::unique_ptr<acceptor_type>> acceptors_;
    std::vector<std::thread> threads_;
    mutable std::mutex threads_mutex_;
    std::vector<std::thread::id> io_threads_;
    std::mutex lifecycle_mutex_;
    std::mutex home_mutex_;  // whether a thread serves in run_until_signal, for shutdown() to wait on
    std::condition_variable home_done_;
    bool home_active_ = false;
    std::atomic<Phase> phase_{Phase::created};
    bool sharded_ = false;
};

using Server = BasicServer<>;

}  // namespace berth
