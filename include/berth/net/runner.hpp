#pragma once
// The optional runner: a BasicServer with io_contexts and threads of its own, for a program whose
// whole job is to serve (berth serve). It is built on the server's public API only.
//
//   berth::ServerRunner runner(listeners, {.threads = 4});
//   runner.bind();                          // throws berth::StartupError naming every failure
//   runner.run_until_signal(handler, {SIGINT, SIGTERM}, std::chrono::seconds(10));
//
// With more than one thread and SO_REUSEPORT on every listener, each thread runs an io_context of its
// own with its own listening socket per address (the kernel spreads connections over them); otherwise
// the threads share one io_context, and every session gets a strand of its own.

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/error.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/server.hpp"
#include "berth/net/session_handler.hpp"

namespace berth {

struct RunnerOptions {
    /// I/O threads (see above).
    std::size_t threads = 1;
    /// shutdown()'s default grace period.
    std::chrono::milliseconds grace_period{10000};
    /// After the grace period, how long cancelled sessions get to unwind before the runner stops its
    /// contexts and destroys whatever is still pending.
    std::chrono::milliseconds cancel_wait{2000};
    /// Contexts that one thread runs are made with ASIO_CONCURRENCY_HINT_UNSAFE_IO: no locking around
    /// their sockets' reactor state, which saves a little per operation. Then every operation on a
    /// session's stream or socket must be started on the session's own thread: a handler that goes to
    /// another executor (co_await asio::post(pool, asio::use_awaitable)) must come back to the session's
    /// executor (co_await asio::post(session.get_executor(), asio::use_awaitable)) before it reads,
    /// writes or closes. Off by default: plain Asio's rules apply.
    bool unsafe_io = false;
    /// Tests: fail the Nth step of a session's start (see fault_injection.hpp).
    std::shared_ptr<FailCount> fail_count{};
};

template <class Protocol = asio::ip::tcp, class PolicyBundle = Policies<>>
class BasicServerRunner {
public:
    using server_type = BasicServer<Protocol, asio::any_io_executor, PolicyBundle>;
    using session_type = typename server_type::session_type;

    explicit BasicServerRunner(std::vector<ResolvedListener> listeners, RunnerOptions options = {},
                               PolicyBundle policies = {})
        : options_(std::move(options)) {
        if (options_.threads == 0) options_.threads = 1;
        bool every_listener_reuses_port = !listeners.empty();
        for (const ResolvedListener& config : listeners)
            every_listener_reuses_port = every_listener_reuses_port && config.socket_reuse_port;
        sharded_ = options_.threads > 1 && every_listener_reuses_port;
        const std::size_t count = sharded_ ? options_.threads : 1;
        const bool one_thread_each = options_.threads == 1 || sharded_;
        const int hint = !one_thread_each          ? static_cast<int>(options_.threads)
                         : options_.unsafe_io       ? ASIO_CONCURRENCY_HINT_UNSAFE_IO
                                                    : 1;
        std::vector<asio::any_io_executor> shards;
        for (std::size_t i = 0; i < count; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(hint));
            shards.push_back(contexts_.back()->get_executor());
        }
        ServerOptions server_options{one_thread_each, options_.fail_count};
        server_.emplace(std::move(shards), std::move(listeners), std::move(server_options), std::move(policies));
    }
    BasicServerRunner(const BasicServerRunner&) = delete;
    BasicServerRunner& operator=(const BasicServerRunner&) = delete;
    ~BasicServerRunner() {
        try {
            shutdown(std::chrono::milliseconds(0));
        } catch (...) {  // a destructor must not throw; shutdown only throws when misused from an I/O thread
        }
    }

    /// See BasicServer::bind.
    void bind() { server_->bind(); }
    void bind(std::error_code& ec) { server_->bind(ec); }

    /// Starts accepting and the I/O threads. The handler is copied into the server; it is shared by
    /// every session and called concurrently.
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
    /// down as shutdown(grace) does and returns the signal's number; 0 when shutdown() from another
    /// thread ended it. The calling thread is the first I/O thread and threads - 1 more are started, so
    /// with one thread the process runs no thread of berth's. The signals are caught with
    /// asio::signal_set: they must not be blocked in every thread. `on_signal`, when given, is called
    /// with the signal's number on an I/O thread as the shutdown begins.
    template <class Handler>
        requires SessionHandler<Handler, session_type>
    int run_until_signal(Handler handler, std::initializer_list<int> stop_signals, std::chrono::milliseconds grace,
                         std::function<void(int)> on_signal = {}) {
        asio::io_context& home = *contexts_[0];
        std::atomic<int> received{0};
        {
            asio::signal_set signals(home);
            asio::steady_timer give_up(home);
            for (const int number : stop_signals) signals.add(number);
            {
                std::lock_guard<std::mutex> lock(lifecycle_mutex_);
                std::error_code ec;
                launch(std::move(handler), 1, ec);
                if (ec) throw std::system_error(ec, "berth: run_until_signal");
                std::lock_guard<std::mutex> home_lock(home_mutex_);
                home_active_ = true;
            }
            signals.async_wait([this, &received, &give_up, &on_signal, grace](std::error_code ec, int number) {
                if (ec) return;
                received.store(number);
                if (on_signal) on_signal(number);
                server_->async_shutdown(grace, [this] { stop_contexts(); });
                // Sessions that do not unwind once cancelled are given up on after cancel_wait.
                give_up.expires_after(grace + options_.cancel_wait);
                give_up.async_wait([this](std::error_code error) {
                    if (!error) stop_contexts();
                });
            });
            run_context(home);
            forget_io_thread();
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
    void request_stop() { server_->request_stop(); }

    /// Both phases, waiting: stop accepting and close the listening sockets at once, let sessions finish
    /// within `grace`, then cancel the rest and, after `cancel_wait`, stop the contexts and destroy
    /// whatever is still pending. Every permit is given back when it returns. Not from one of the
    /// runner's own threads (use request_stop() there, or the server's async_shutdown).
    void shutdown(std::chrono::milliseconds grace) {
        if (is_io_thread()) throw std::logic_error("berth: shutdown() from a runner thread; use request_stop()");
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (phase_ == Phase::running) {
            auto done = std::make_shared<std::promise<void>>();
            std::future<void> finished = done->get_future();
            server_->async_shutdown(grace, [done] { done->set_value(); });
            finished.wait_for(grace + options_.cancel_wait);
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

    /// The server the runner runs, for everything else: bound_endpoints(), stats(), async_shutdown()...
    [[nodiscard]] server_type& server() noexcept { return *server_; }
    [[nodiscard]] const server_type& server() const noexcept { return *server_; }

    [[nodiscard]] const std::vector<StartupFailure>& startup_failures() const noexcept {
        return server_->startup_failures();
    }
    [[nodiscard]] std::vector<BoundEndpoint> bound_endpoints() const { return server_->bound_endpoints(); }
    [[nodiscard]] std::optional<SocketAddr> local_address(std::string_view listener) const {
        return server_->local_address(listener);
    }
    [[nodiscard]] std::vector<ListeningSocket> listening_sockets() const { return server_->listening_sockets(); }
    [[nodiscard]] std::size_t live_sessions() const noexcept { return server_->live_sessions(); }
    [[nodiscard]] const ConnectionCounter& connections(std::string_view listener) const {
        return server_->connections(listener);
    }
    [[nodiscard]] ListenerStatsSnapshot stats(std::string_view listener) const { return server_->stats(listener); }
    [[nodiscard]] PolicyBundle& policies() noexcept { return server_->policies(); }
    [[nodiscard]] const std::vector<ResolvedListener>& configuration() const noexcept {
        return server_->configuration();
    }

private:
    enum class Phase { created, running, stopped };

    /// Starts the server, and the I/O threads from the `first_thread`-th on (the ones before it are the
    /// caller's). Under lifecycle_mutex_.
    template <class Handler>
    void launch(Handler handler, std::size_t first_thread, std::error_code& ec) {
        ec.clear();
        if (phase_ != Phase::created) {
            ec = make_error_code(NetError::already_started);
            return;
        }
        if (!server_->bound()) {
            ec = make_error_code(NetError::not_bound);
            return;
        }
        server_->async_run(std::move(handler), [](std::error_code) {});
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

    /// The end of shutdown, once no I/O thread runs: the server lets go of its sockets and loops, then
    /// the contexts go with whatever is pending (their sessions end, permits come back). The server's
    /// counters stay readable.
    void release() {
        if (phase_ == Phase::stopped) return;
        server_->close_now();
        contexts_.clear();
        phase_ = Phase::stopped;
    }

    void stop_contexts() {
        for (auto& context : contexts_) context->stop();
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

    void forget_io_thread() {
        std::lock_guard<std::mutex> lock(threads_mutex_);
        io_threads_.erase(std::remove(io_threads_.begin(), io_threads_.end(), std::this_thread::get_id()),
                          io_threads_.end());
    }

    [[nodiscard]] bool is_io_thread() const {
        std::lock_guard<std::mutex> lock(threads_mutex_);
        return std::find(io_threads_.begin(), io_threads_.end(), std::this_thread::get_id()) != io_threads_.end();
    }

    // Destroyed in reverse order: the server (its loops already closed by release()), then the contexts.
    RunnerOptions options_;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::optional<server_type> server_;
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

using ServerRunner = BasicServerRunner<>;

}  // namespace berth
