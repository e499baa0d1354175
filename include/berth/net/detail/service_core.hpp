#pragma once
// What an acceptor or a server is at run time, shared with everything that runs on its behalf: the
// listeners and their state, every listening socket's accept loop, the registry of live sessions,
// the session handler, and the lifecycle (bound, running, stopping, finished) with the completions
// that wait for its end. The public BasicAcceptor and BasicServer are handles to it; a loop's chain
// of handlers and every accepted session keep it alive, so a handle may go while they finish.

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "berth/model/field.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/net/detail/accept_loop.hpp"
#include "berth/net/detail/listener_state.hpp"
#include "berth/net/detail/portable_error.hpp"
#include "berth/net/detail/session_block.hpp"
#include "berth/net/detail/stored_completion.hpp"
#include "berth/net/endpoint.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/fault_injection.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/session.hpp"
#include "berth/net/socket_options.hpp"

namespace berth {

/// How an acceptor or a server uses the executors it is given.
struct AcceptorOptions {
    /// The executors are serial: each is a strand, or the executor of an io_context that one thread
    /// runs. Then the accept loops and the sessions run on them directly, without a strand of their
    /// own each. Leave it false for a thread_pool or an io_context run by several threads.
    bool serial_executor = false;
    /// Tests: fail the Nth step of a session's start (see fault_injection.hpp).
    std::shared_ptr<FailCount> fail_count{};
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

namespace detail {

/// The configuration key a startup failure is reported under: where the value came from, or the
/// listener when it is a built-in default.
inline std::string key_of(const ResolvedListener& listener, Field field) {
    const Source& source = listener.source_of(field);
    if (!source.is_default()) return source.path.str();
    return "listener \"" + listener.name + "\"";
}

template <class Protocol, class Executor, class PolicyBundle>
class ServiceCore final : public SessionOwner,
                          public std::enable_shared_from_this<ServiceCore<Protocol, Executor, PolicyBundle>> {
public:
    using protocol_type = Protocol;
    using policies_type = PolicyBundle;
    using session_type = BasicSession<Protocol>;
    using permit_type = typename PolicyBundle::connection_limit_type::permit_type;
    using block_type = SessionBlock<Protocol, permit_type>;
    using loop_type = AcceptLoop<ServiceCore>;

    /// `policies` is used where it is when `owned` is empty (the caller passed std::ref).
    ServiceCore(std::vector<Executor> shards, std::vector<ResolvedListener> listeners, AcceptorOptions options,
                std::unique_ptr<PolicyBundle> owned, PolicyBundle* borrowed)
        : shards_(std::move(shards)), options_(std::move(options)), configured_(std::move(listeners)),
          owned_policies_(std::move(owned)), policies_(owned_policies_ ? owned_policies_.get() : borrowed),
          grace_executor_(shards_.at(0)) {}
    ServiceCore(const ServiceCore&) = delete;
    ServiceCore& operator=(const ServiceCore&) = delete;

    // ---- what the accept loops use ----
    [[nodiscard]] PolicyBundle& policies() noexcept { return *policies_; }
    [[nodiscard]] FailCount* fail_count() const noexcept { return options_.fail_count.get(); }
    [[nodiscard]] bool serial_executor() const noexcept { return options_.serial_executor; }
    [[nodiscard]] std::shared_ptr<SessionOwner> session_owner(const std::shared_ptr<ServiceCore>& keep) const noexcept {
        return std::shared_ptr<SessionOwner>(keep, static_cast<SessionOwner*>(keep.get()));
    }
    void loop_ended() noexcept {
        loops_running_.fetch_sub(1, std::memory_order_acq_rel);
        finish_if_done();
    }
    void last_session_gone() noexcept override { finish_if_done(); }

    // ---- setup ----

    /// Sets up every address of every listener (TLS contexts, sockets, options, bind, listen). All or
    /// nothing: on any failure every socket opened so far is closed.
    void bind(std::error_code& ec) {
        std::lock_guard<std::mutex> lock(mutex_);
        ec.clear();
        failures_.clear();
        if (phase_ != Phase::created) {
            ec = make_error_code(NetError::already_started);
            return;
        }
        prepare_listeners();
        bind_sockets();
        if (failures_.empty()) listen_sockets();
        if (!failures_.empty()) {
            for (auto& loop : loops_) loop->close_now();
            permits.clear();
            loops_.clear();
            listeners_.clear();
            ec = make_error_code(NetError::startup_failed);
            return;
        }
        phase_ = Phase::bound;
    }

    [[nodiscard]] const std::vector<StartupFailure>& startup_failures() const noexcept { return failures_; }

    [[nodiscard]] std::vector<BoundEndpoint> bound_endpoints() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<BoundEndpoint> endpoints;
        for (const auto& loop : loops_)
            if (loop->plan().shard == 0)
                endpoints.push_back(
                    {loop->listener().name, configured_address(*loop), to_socket_addr(loop->local_endpoint())});
        return endpoints;
    }

    [[nodiscard]] std::vector<ListeningSocket> listening_sockets() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<ListeningSocket> sockets;
        for (const auto& loop : loops_)
            sockets.push_back({loop->listener().name, to_socket_addr(loop->local_endpoint()), loop->plan().shard,
                               static_cast<int>(loop->socket().native_handle())});
        return sockets;
    }

    // ---- running ----

    template <class Handler>
    void run(Handler handler, StoredCompletion<std::error_code> completion) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (phase_ != Phase::bound) {
            lock.unlock();
            completion.complete(make_error_code(phase_ == Phase::created ? NetError::not_bound
                                                                         : NetError::already_started));
            return;
        }
        auto holder = std::make_unique<HandlerHolder<Handler>>(std::move(handler));
        Handler& stored = holder->handler;
        handler_ = std::move(holder);
        run_completion_ = std::move(completion);
        phase_ = Phase::running;
        loops_running_.store(loops_.size(), std::memory_order_release);
        std::vector<loop_type*> loops;
        for (auto& loop : loops_) loops.push_back(loop.get());
        lock.unlock();
        // Outside the lock: a loop started on this thread's executor may accept at once, and a session
        // may end, inline.
        const std::shared_ptr<ServiceCore> keep = this->shared_from_this();
        for (loop_type* loop : loops) loop->start(stored, keep);
        finish_if_done();  // no listening socket at all, and already stopped
    }

    /// Stop accepting and close every listening socket; sessions go on. From any thread.
    void request_stop() {
        stopping_.store(true, std::memory_order_release);
        std::unique_lock<std::mutex> lock(mutex_);
        if (phase_ == Phase::running) {
            lock.unlock();
            stop_loops();
            return;
        }
        if (phase_ == Phase::created || phase_ == Phase::bound) close_unstarted();
    }

    /// Stop accepting at once, give sessions `grace` to finish, then cancel the rest; `completion` when
    /// the last accept loop and the last session are gone. From any thread.
    void shutdown(std::chrono::milliseconds grace, StoredCompletion<> completion) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (phase_ != Phase::running) {
            if (phase_ == Phase::created || phase_ == Phase::bound) close_unstarted();
            lock.unlock();
            completion.complete();
            return;
        }
        shutdown_completions_.push_back(std::move(completion));
        if (!grace_started_) {
            grace_started_ = true;
            start_grace(grace);  // under the lock: finish_if_done sees the timer, and cancels it after its start
        }
        lock.unlock();
        request_stop();
        finish_if_done();
    }

    /// Every live session gets a terminal cancellation and its socket closed, on its own executor.
    void cancel_sessions() { registry.cancel_all(); }

    /// While no thread runs any of the executors, and none will before their contexts are destroyed:
    /// closes every listening socket and destroys the accept loops, so that nothing of this object
    /// refers to a context once the contexts go (a runner's last step).
    void close_now() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_.store(true, std::memory_order_release);
        permits.close();
        for (auto& loop : loops_) loop->close_now();
        loops_.clear();
        // What holds work on, or refers to, a context goes too.
        grace_timer_.reset();
        run_completion_ = {};
        shutdown_completions_.clear();
        phase_ = Phase::finished;
    }

    // ---- state ----
    [[nodiscard]] bool running() const noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return phase_ == Phase::running;
    }
    [[nodiscard]] bool bound() const noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return phase_ == Phase::bound;
    }
    [[nodiscard]] bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    [[nodiscard]] std::size_t live_sessions() const noexcept { return registry.size(); }
    [[nodiscard]] const ListenerState& listener(std::string_view name) const {
        for (const auto& listener : listeners_)
            if (listener->state.config.name == name) return listener->state;
        throw std::out_of_range("berth: no listener named " + std::string(name));
    }
    [[nodiscard]] const std::vector<ResolvedListener>& configuration() const noexcept { return configured_; }
    [[nodiscard]] const std::vector<Executor>& shards() const noexcept { return shards_; }

private:
    enum class Phase { created, bound, running, finished };

    /// A listener's state, and what its sessions report through.
    struct Listener final : SessionServices {
        Listener(ServiceCore& owner, ResolvedListener config) : core(&owner), state(std::move(config)) {}
        void report(EventKind kind, const SocketAddr& peer, std::error_code error,
                    std::string_view detail) noexcept override {
            state.stats.count(kind);
            core->policies_->events.on_event(Event{kind, &state.config, peer, portable_error(error), detail});
        }
        [[nodiscard]] bool stopping() const noexcept override { return core->stopping(); }

        ServiceCore* core;
        ListenerState state;
    };

    struct HandlerHolderBase {
        virtual ~HandlerHolderBase() = default;
    };
    template <class Handler>
    struct HandlerHolder final : HandlerHolderBase {
        explicit HandlerHolder(Handler h) : handler(std::move(h)) {}
        Handler handler;
    };

    static SocketAddr configured_address(const loop_type& loop) {
        for (const SocketAddr& address : loop.listener().bind)
            if (address.address() == loop.plan().address.address() &&
                (address.port() == loop.plan().address.port() || address.port() == 0))
                return address;
        return loop.plan().address;
    }

    /// Listener states and their TLS contexts; a TLS or PROXY problem is recorded, not thrown.
    void prepare_listeners() {
        for (const ResolvedListener& config : configured_) {
            auto listener = std::make_unique<Listener>(*this, config);
            TlsContextFailure tls_failure;
            listener->state.tls_context = policies_->tls.make_context(config, tls_failure);
            if (tls_failure.error)
                failures_.push_back({config.name, std::nullopt, key_of(config, tls_failure.field), "TLS context",
                                     tls_failure.error, tls_failure.detail});
            if (config.uses_proxy_protocol() && !policies_->proxy_protocol.accepts(ProxyVersion::v1) &&
                !policies_->proxy_protocol.accepts(ProxyVersion::v2))
                failures_.push_back({config.name, std::nullopt, key_of(config, Field::proxy_trusted_networks),
                                     "PROXY protocol", make_error_code(NetError::proxy_protocol_unavailable), {}});
            listeners_.push_back(std::move(listener));
        }
    }

    /// A listening socket per address per shard; a listener without SO_REUSEPORT gets one socket per
    /// address, on the first shard (a second bind to the same address would fail).
    void bind_sockets() {
        for (auto& listener : listeners_) {
            const ResolvedListener& config = listener->state.config;
            const std::size_t shard_count = config.socket_reuse_port ? shards_.size() : 1;
            for (const SocketAddr& address : config.bind) {
                BindPlan plan{address, dual_stack_v6_only(address, configured_), 0};
                for (std::size_t shard = 0; shard < shard_count; ++shard) {
                    plan.shard = shard;
                    auto loop = std::make_unique<loop_type>(*this, asio::any_io_executor(shards_[shard]),
                                                            listener->state, *listener, plan);
                    if (auto failure = loop->open_and_bind()) {
                        failures_.push_back({config.name, address, key_of(config, Field::bind), failure->step,
                                             failure->error, {}});
                        break;  // the other shards of this address would fail the same way
                    }
                    // Port 0: the first socket got a port from the OS; the other shards share it.
                    if (shard == 0) plan.address = to_socket_addr(loop->local_endpoint());
                    loops_.push_back(std::move(loop));
                }
            }
        }
    }

    void listen_sockets() {
        for (auto& loop : loops_)
            if (auto failure = loop->listen())
                failures_.push_back({loop->listener().name, configured_address(*loop),
                                     key_of(loop->listener(), Field::bind), failure->step, failure->error, {}});
    }

    /// Under mutex_, before any loop ran: nothing but this thread touches the sockets.
    void close_unstarted() noexcept {
        for (auto& loop : loops_) loop->close_now();
        phase_ = Phase::finished;
    }

    void stop_loops() {
        const std::shared_ptr<ServiceCore> keep = this->shared_from_this();
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& loop : loops_) loop->stop(keep);
    }

    /// The grace period, on a timer and strand of its own that its wait keeps alive: once the sessions
    /// are gone the wait is cancelled, so the caller's context is not kept running for the rest of it.
    struct GraceTimer {
        explicit GraceTimer(const asio::any_io_executor& executor)
            : strand(asio::make_strand(executor)), timer(strand) {}
        asio::strand<asio::any_io_executor> strand;
        asio::steady_timer timer;
    };

    /// Under mutex_. The wait is posted to the timer's strand before anything can post its cancellation,
    /// which finish_if_done does only after taking the timer from grace_timer_ under the same lock.
    void start_grace(std::chrono::milliseconds grace) {
        auto timer = std::make_shared<GraceTimer>(grace_executor_);
        grace_timer_ = timer;
        std::weak_ptr<ServiceCore> weak = this->weak_from_this();
        asio::post(timer->strand, [timer, grace, weak] {
            timer->timer.expires_after(grace);
            timer->timer.async_wait([timer, weak](std::error_code ec) {
                if (ec) return;
                if (auto core = weak.lock()) core->cancel_sessions();
            });
        });
    }

    /// Completes run and shutdown once stopping, with no loop and no session left. From any thread.
    void finish_if_done() noexcept {
        StoredCompletion<std::error_code> run_completion;
        std::vector<StoredCompletion<>> shutdown_completions;
        std::shared_ptr<GraceTimer> timer;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (phase_ != Phase::running || !stopping_.load(std::memory_order_acquire) ||
                loops_running_.load(std::memory_order_acquire) != 0 || registry.size() != 0)
                return;
            phase_ = Phase::finished;
            run_completion = std::move(run_completion_);
            shutdown_completions = std::move(shutdown_completions_);
            timer = std::move(grace_timer_);
        }
        try {
            if (timer) asio::post(timer->strand, [timer] { timer->timer.cancel(); });
            run_completion.complete(std::error_code{});
            for (auto& completion : shutdown_completions) completion.complete();
        } catch (...) {
            // Out of memory for posting a completion: it is destroyed uncompleted, and its work with it.
        }
    }

    std::vector<Executor> shards_;
    AcceptorOptions options_;
    std::vector<ResolvedListener> configured_;
    std::unique_ptr<PolicyBundle> owned_policies_;
    PolicyBundle* policies_;
    asio::any_io_executor grace_executor_;

    mutable std::mutex mutex_;  // the phase, the loops' list and the completions
    Phase phase_ = Phase::created;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> loops_running_{0};
    std::vector<StartupFailure> failures_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::unique_ptr<HandlerHolderBase> handler_;
    std::vector<std::unique_ptr<loop_type>> loops_;
    StoredCompletion<std::error_code> run_completion_;
    std::vector<StoredCompletion<>> shutdown_completions_;
    std::shared_ptr<GraceTimer> grace_timer_;
    bool grace_started_ = false;
};

}  // namespace detail

}  // namespace berth
