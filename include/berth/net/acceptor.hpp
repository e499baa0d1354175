#pragma once
// One listening socket of a resolved listener, in Asio's shape: BasicAcceptor<Protocol, Executor,
// Policies>. It sets the listening socket up (options, bind, listen), then runs the accept loop:
// accept, accepted-socket options, PROXY header from trusted peers, permit, overload handling,
// implicit TLS, and the session handler on the session's own strand. BasicServer puts one (or one
// per thread) on every address of every listener.

#include <asio/any_io_executor.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/detail/block_pool.hpp"
#include "berth/net/detail/portable_error.hpp"
#include "berth/net/detail/ref_counted.hpp"
#include "berth/net/detail/server_shared.hpp"
#include "berth/net/endpoint.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/proxy_reader.hpp"
#include "berth/net/session.hpp"
#include "berth/net/session_handler.hpp"
#include "berth/net/socket_options.hpp"

namespace berth {

namespace detail {

/// Everything one connection owns, in one pooled block kept alive by references from the session
/// coroutine, its deadline timer, the acceptor's registry and a pending cancellation.
template <class Protocol, class Permit>
class SessionState final : public RefCounted {
public:
    using socket_type = typename BasicSession<Protocol>::socket_type;

    static Ref<SessionState> create(socket_type&& socket, ListenerRuntime& listener, SessionServices& services,
                                    ServerShared& shared) {
        using Pool = BlockPool<sizeof(SessionState), alignof(SessionState)>;
        void* memory = Pool::allocate();
        try {
            return Ref<SessionState>(::new (memory) SessionState(std::move(socket), listener, services, shared));
        } catch (...) {
            Pool::deallocate(memory);
            throw;
        }
    }

    /// Gives the connection's permit back now rather than when the block goes; waiters hear of it.
    void release_permit() noexcept {
        if (!permit) return;
        permit.reset();
        shared_->permits.permit_released();
    }

    /// Counts the session as live from its accept (the block made ahead for the next accept is not one).
    void mark_accepted() noexcept {
        accepted_ = true;
        shared_->session_created();
    }

    BasicSession<Protocol> session;
    std::optional<Permit> permit;
    asio::cancellation_signal cancellation;
    bool ended = false;                // set on the session's executor when the session is over
    SessionState* previous = nullptr;  // the acceptor's registry, touched on the acceptor's executor only
    SessionState* next = nullptr;

private:
    SessionState(socket_type&& socket, ListenerRuntime& listener, SessionServices& services, ServerShared& shared)
        : session(std::move(socket), listener.config, listener.tls_context ? &*listener.tls_context : nullptr,
                  services, *this),
          shared_(&shared) {}

    void destroy() noexcept override {
        using Pool = BlockPool<sizeof(SessionState), alignof(SessionState)>;
        release_permit();  // when the session did not end through end_without_handler
        ServerShared& shared = *shared_;
        const bool was_accepted = accepted_;
        this->~SessionState();  // closes the socket
        Pool::deallocate(this);
        if (was_accepted) shared.session_destroyed();
    }

    ServerShared* shared_;
    bool accepted_ = false;
};

}  // namespace detail

/// Why setting up a listening socket failed: the step ("open", "set SO_REUSEPORT", "bind", "listen")
/// and the OS reason.
struct SetupFailure {
    std::string step;
    std::error_code error;
};

template <class Protocol = asio::ip::tcp, class Executor = asio::any_io_executor, class PolicyBundle = Policies<>>
class BasicAcceptor final : private detail::SessionServices, private detail::PermitWaiter {
    static_assert(SocketOptionPolicy<typename PolicyBundle::socket_options_type,
                                     asio::basic_socket_acceptor<Protocol, Executor>,
                                     typename BasicSession<Protocol>::socket_type>,
                  "the socket-option policy must model berth::SocketOptionPolicy for this protocol");

public:
    using protocol_type = Protocol;
    using executor_type = Executor;
    using policies_type = PolicyBundle;
    using endpoint_type = typename Protocol::endpoint;
    using session_type = BasicSession<Protocol>;
    using permit_type = typename PolicyBundle::connection_limit_type::permit_type;
    using socket_acceptor_type = asio::basic_socket_acceptor<Protocol, Executor>;

    /// `executor` runs the accept loop; sessions run on `session_executor`, each on a new strand of it
    /// when `strand_per_session` (a context run by several threads), else on it directly (a context
    /// run by one thread is already a strand).
    BasicAcceptor(const Executor& executor, asio::io_context::executor_type session_executor, bool strand_per_session,
                  detail::ListenerRuntime& listener, PolicyBundle& policies, detail::ServerShared& shared,
                  BindPlan plan)
        : executor_(executor), session_executor_(std::move(session_executor)),
          strand_per_session_(strand_per_session), socket_prototype_(session_executor_), acceptor_(executor),
          backoff_timer_(executor), permit_timer_(executor), listener_(&listener), policies_(&policies),
          shared_(&shared), plan_(std::move(plan)) {
        if constexpr (PolicyBundle::overload_type::waits_for_permit) shared.permits.add(*this);
#if BERTH_DIRECT_ACCEPT
        asio::io_context& sessions = session_executor_.context();
        if (detail::UnpolledSpan::single_threaded(sessions))
            unpolled_reactor_ = &asio::use_service<asio::detail::reactor>(sessions);
#endif
    }
    BasicAcceptor(const BasicAcceptor&) = delete;
    BasicAcceptor& operator=(const BasicAcceptor&) = delete;
    ~BasicAcceptor() {
        while (registry_head_) unlink(registry_head_);
    }

    [[nodiscard]] const BindPlan& plan() const noexcept { return plan_; }
    [[nodiscard]] const ResolvedListener& listener() const noexcept { return listener_->config; }
    [[nodiscard]] socket_acceptor_type& socket() noexcept { return acceptor_; }
    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }

    /// Opens the socket, sets the listening options (before bind), binds. On failure the socket is
    /// closed at once: a socket whose bind failed is never listened on.
    std::optional<SetupFailure> open_and_bind() {
        const endpoint_type endpoint = to_endpoint<Protocol>(plan_.address);
        std::error_code ec;
        acceptor_.open(endpoint.protocol(), ec);
        if (ec) return fail("open", ec);
        if (const OptionFailure option =
                policies_->socket_options.apply_to_listening(listener_->config, plan_, acceptor_))
            return fail("set " + std::string(option.option), option.error);
        acceptor_.bind(endpoint, ec);
        if (ec) return fail("bind", ec);
        return std::nullopt;
    }

    std::optional<SetupFailure> listen() {
        std::error_code ec;
        acceptor_.listen(policies_->socket_options.backlog(listener_->config), ec);
        if (ec) return fail("listen", ec);
        return std::nullopt;
    }

    [[nodiscard]] endpoint_type local_endpoint() const {
        std::error_code ignored;
        return acceptor_.local_endpoint(ignored);
    }

    /// Before the accept loop runs (or after it ended): close the socket from the calling thread.
    void close_now() noexcept {
        std::error_code ignored;
        acceptor_.close(ignored);
    }

    /// Starts the accept loop. `handler` must outlive every session.
    template <class Handler>
        requires SessionHandler<Handler, session_type>
    void start(Handler& handler) {
        running_.store(true, std::memory_order_release);
        asio::dispatch(executor_, [this, &handler] {
            if constexpr (session_type::socket_type::direct_accept) {
                // accept4() on the listening socket must never block.
                std::error_code ec;
                acceptor_.native_non_blocking(true, ec);
                if (ec) return accept_failed(handler, ec);
            }
            accept_next(handler);
        });
    }

    /// Stops accepting and closes the listening socket (from any thread; takes effect on the acceptor's
    /// executor). Sessions already running are not touched.
    void stop() {
        asio::post(executor_, [this] {
            stopping_ = true;
            std::error_code ignored;
            acceptor_.close(ignored);
            backoff_timer_.cancel();
            permit_timer_.cancel();
        });
    }

    /// Cancels every session of this acceptor (from any thread): each gets a terminal cancellation and
    /// its socket closed, on its own strand.
    void cancel_sessions() {
        asio::post(executor_, [this] {
            for (state_type* state = registry_head_; state; state = state->next) {
                detail::Ref<state_type> keep(state);
                asio::post(state->session.get_executor(), [keep] {
                    keep->cancellation.emit(asio::cancellation_type::terminal);
                    keep->session.close();
                });
            }
        });
    }

    /// The accept loop is running.
    [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
    /// Sessions of this acceptor not yet finished.
    [[nodiscard]] std::size_t sessions() const noexcept { return registry_size_.load(std::memory_order_acquire); }

private:
    using state_type = detail::SessionState<Protocol, permit_type>;
    using state_ref = detail::Ref<state_type>;
    static constexpr auto busy_reply_longest_wait = std::chrono::milliseconds(5000);
    /// Accepts (and failed accepts) the direct accept makes in a row before the sessions it started get
    /// their turn; also the bound on how deep its calls nest.
    static constexpr unsigned accept_batch = 16;

    std::optional<SetupFailure> fail(std::string step, std::error_code ec) {
        close_now();
        return SetupFailure{std::move(step), detail::portable_error(ec)};
    }

    // ---- events (SessionServices) ----
    void report(EventKind kind, const SocketAddr& peer, std::error_code error,
                std::string_view detail) noexcept override {
        listener_->stats.count(kind);
        policies_->events.on_event(Event{kind, &listener_->config, peer, detail::portable_error(error), detail});
    }
    [[nodiscard]] bool stopping() const noexcept override { return shared_->stopping.load(std::memory_order_acquire); }

    // ---- backpressure (PermitWaiter) ----
    void wake() noexcept override {
        asio::post(executor_, [this] { permit_timer_.cancel(); });
    }

    std::optional<permit_type> try_acquire() {
        return policies_->connection_limit.try_acquire(listener_->connections);
    }

    /// What becomes of a connection that asks for a permit: it gets one, or it is over the limit and
    /// gets the overload policy's busy line, or (no busy line) it is closed at once.
    enum class Admission : unsigned char { admitted, busy_reply, closed };

    /// Takes the session's permit, or reports the refusal and says what the overload policy does.
    Admission admit(state_type& state) {
        state.permit = try_acquire();
        if (state.permit) return Admission::admitted;
        report(EventKind::refused_over_limit, state.session.peer(), {}, {});
        return policies_->overload.busy_reply(listener_->config).empty() ? Admission::closed : Admission::busy_reply;
    }

    // ---- the registry of this acceptor's sessions, on the acceptor's executor ----
    void link(state_type* state) noexcept {
        state->add_ref();
        state->next = registry_head_;
        if (registry_head_) registry_head_->previous = state;
        registry_head_ = state;
        registry_size_.fetch_add(1, std::memory_order_acq_rel);
    }
    void unlink(state_type* state) noexcept {
        if (state->previous) state->previous->next = state->next;
        else registry_head_ = state->next;
        if (state->next) state->next->previous = state->previous;
        state->previous = state->next = nullptr;
        registry_size_.fetch_sub(1, std::memory_order_acq_rel);
        state->release();
    }

    // ---- the accept loop: a chain of completion handlers on the acceptor's executor ----
    // Callbacks rather than a coroutine: a connection costs a few hundred nanoseconds of this loop's
    // time, and every coroutine resumption and type-erased dispatch on the way is a measurable share.

    /// A closed socket for the next session: on a strand of its own, or a move from the prototype, which
    /// leaves the prototype as it was (Asio: a moved-from socket is as if made anew with its executor)
    /// without the look-up of the socket service that making a socket costs.
    typename state_type::socket_type new_session_socket() {
        using socket_type = typename state_type::socket_type;
        if (strand_per_session_) return socket_type(asio::make_strand(session_executor_));
        return socket_type(std::move(socket_prototype_));
    }

    template <class Handler>
    void accept_next(Handler& handler) {
        if (stopping_) return loop_ended();
        std::error_code ec;
        try {
            if (!next_) next_ = state_type::create(new_session_socket(), *listener_, *this, *shared_);
        } catch (const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
        if (ec) return accept_failed(handler, ec);
        if constexpr (session_type::socket_type::direct_accept) {
            accept_direct(handler);
        } else {
            acceptor_.async_accept(next_->session.socket(), peer_endpoint_,
                                   [this, &handler](std::error_code error) { accepted(handler, error); });
        }
    }

#if BERTH_DIRECT_ACCEPT
    /// Takes the next pending connection at once when there is one (as the epoll loop does), else waits
    /// for the listening socket to become readable. After accept_batch connections in a row the loop
    /// goes through the executor's queue, so the sessions it started get their turn.
    template <class Handler>
    void accept_direct(Handler& handler) {
        if (accepted_in_turn_ == accept_batch) {
            accepted_in_turn_ = 0;
            asio::post(executor_, [this, &handler] { accept_next(handler); });
            return;
        }
        // On the one thread of the sessions' context, nothing polls its reactor until this returns: the
        // sessions started here make their first read wait without re-arming (detail/unpolled_wait.hpp).
        const detail::UnpolledSpan span(
            unpolled_reactor_ != nullptr && session_executor_.running_in_this_thread()
                ? static_cast<asio::detail::reactor*>(unpolled_reactor_)
                : nullptr);
        const std::error_code ec = next_->session.socket().accept_from(acceptor_, peer_endpoint_, span.number());
        if (ec == asio::error::would_block) {
            accepted_in_turn_ = 0;
            acceptor_.async_wait(socket_acceptor_type::wait_read, [this, &handler](std::error_code error) {
                if (error) return accept_failed(handler, error);
                accept_next(handler);
            });
            return;
        }
        ++accepted_in_turn_;  // failures count too: a run of skipped errors must not nest calls without end
        accepted(handler, ec);
    }
#endif

    template <class Handler>
    void accept_failed(Handler& handler, std::error_code ec) {
        const AcceptErrorAction action = policies_->accept_errors.classify(ec);
        if (stopping_ || action == AcceptErrorAction::stop) return loop_ended();
        if (action == AcceptErrorAction::skip) return accept_next(handler);
        pause_ = policies_->accept_errors.next_backoff(pause_);
        report_backoff(ec, pause_);
        backoff_timer_.expires_after(pause_);
        backoff_timer_.async_wait([this, &handler](std::error_code) { accept_next(handler); });
    }

    void loop_ended() noexcept {
        next_ = {};  // the block made ahead for the next accept
        running_.store(false, std::memory_order_release);
    }

    template <class Handler>
    void accepted(Handler& handler, std::error_code ec) {
        if (ec) return accept_failed(handler, ec);
        pause_ = std::chrono::milliseconds(0);
        state_ref state = std::move(next_);
        state->mark_accepted();
        if (!prepare(*state)) return accept_next(handler);
        const bool needs_proxy_header = trusted(state->session.tcp_peer());
        if constexpr (PolicyBundle::overload_type::waits_for_permit) {
            // Backpressure: this acceptor holds the connection it has and accepts nothing more until a
            // permit frees; later connections wait in the kernel's backlog.
            return wait_for_permit(handler, std::move(state), needs_proxy_header);
        } else {
            Admission admission = Admission::admitted;
            if (!needs_proxy_header) admission = admit(*state);
            if (admission == Admission::closed) {
                state->session.close();
                return accept_next(handler);
            }
            launch(handler, std::move(state), needs_proxy_header, admission == Admission::busy_reply);
            accept_next(handler);
        }
    }

    template <class Handler>
    void wait_for_permit(Handler& handler, state_ref state, bool needs_proxy_header) {
        if (stopping_) {
            state->session.close();
            return loop_ended();
        }
        std::optional<permit_type> permit = try_acquire();
        if (!permit) {
            shared_->permits.enter_wait(*this);
            permit = try_acquire();
            if (!permit) {
                permit_timer_.expires_at(std::chrono::steady_clock::time_point::max());
                permit_timer_.async_wait([this, &handler, state = std::move(state), needs_proxy_header](
                                             std::error_code) mutable {
                    shared_->permits.leave_wait(*this);
                    wait_for_permit(handler, std::move(state), needs_proxy_header);
                });
                return;
            }
            shared_->permits.leave_wait(*this);
        }
        state->permit = std::move(permit);
        launch(handler, std::move(state), needs_proxy_header, false);
        accept_next(handler);
    }

    template <class Handler>
    void launch(Handler& handler, state_ref state, bool needs_proxy_header, bool refused) {
        try {
            link(state.get());
            if (!strand_per_session_ && session_executor_.running_in_this_thread()) {
                // What dispatch() would do, without wrapping the call for the type-erased executor.
                return begin_session(handler, std::move(state), needs_proxy_header, refused);
            }
            auto executor = state->session.get_executor();
            asio::dispatch(executor, [this, &handler, state = std::move(state), needs_proxy_header, refused]() mutable {
                begin_session(handler, std::move(state), needs_proxy_header, refused);
            });
        } catch (const std::bad_alloc&) {
            pause_ = policies_->accept_errors.next_backoff(pause_);
            report_backoff(std::make_error_code(std::errc::not_enough_memory), pause_);
        }
    }

    /// An accept error pauses the loop; the hook hears of it at most once per report interval.
    void report_backoff(std::error_code ec, std::chrono::milliseconds pause) {
        const auto now = std::chrono::steady_clock::now();
        if (backoff_reported_ && now - last_backoff_report_ < policies_->accept_errors.report_interval()) {
            listener_->stats.count(EventKind::accept_backoff);
            return;
        }
        backoff_reported_ = true;
        last_backoff_report_ = now;
        char* end = std::to_chars(backoff_text_.data(), backoff_text_.data() + backoff_text_.size() - 3,
                                  pause.count()).ptr;
        *end++ = 'm';
        *end++ = 's';
        report(EventKind::accept_backoff, plan_.address, ec,
               std::string_view(backoff_text_.data(), static_cast<std::size_t>(end - backoff_text_.data())));
    }

    [[nodiscard]] bool trusted(const SocketAddr& tcp_peer) const noexcept {
        for (const IpMask& mask : listener_->config.proxy_trusted_networks)
            if (mask.matches(tcp_peer.address())) return true;
        return false;
    }

    /// The connection just accepted: its peer, the accepted event, the accepted-socket options. False
    /// when the connection is already closed.
    bool prepare(state_type& state) {
        session_type& session = state.session;
        session.set_peers(to_socket_addr(peer_endpoint_));
        report(EventKind::accepted, session.peer(), {}, {});
        const AcceptedSocket accepted{session.tcp_peer(), plan_.address.address().is_v6()};
        if (const OptionFailure option =
                policies_->socket_options.apply_to_accepted(listener_->config, accepted, session.socket())) {
            report(EventKind::socket_option_error, session.peer(), option.error, option.option);
            session.close();
            return false;
        }
        return true;
    }

    // ---- one session, on its own executor: PROXY header, permit, busy reply, implicit TLS, handler ----

    template <class Handler>
    void begin_session(Handler& handler, state_ref state, bool needs_proxy_header, bool refused) {
        if (needs_proxy_header) {
            session_type& session = state->session;
            session.arm_deadline(listener_->config.tls_timeout);
            async_read_proxy_header(session.stream().plain(), policies_->proxy_protocol.limits(),
                                    [this, &handler, state = std::move(state)](ProxyReadResult result) mutable {
                                        proxy_header_read(handler, std::move(state), std::move(result));
                                    });
            return;
        }
        after_proxy_header(handler, std::move(state), refused);
    }

    /// A trusted peer's PROXY header, read within tlsTimeout: any problem is reported and closes.
    template <class Handler>
    void proxy_header_read(Handler& handler, state_ref state, ProxyReadResult result) {
        session_type& session = state->session;
        std::error_code error = session.disarm_deadline() ? std::error_code(asio::error::timed_out) : result.error;
        std::string_view detail = result.parse.failed() ? describe(result.parse.error) : std::string_view{};
        if (!error && !policies_->proxy_protocol.accepts(result.parse.header.version)) {
            error = make_error_code(NetError::proxy_header_invalid);
            detail = result.parse.header.version == ProxyVersion::v1 ? "PROXY v1 is not accepted"
                                                                      : "PROXY v2 is not accepted";
        }
        if (error) {
            if (!stopping()) report(EventKind::proxy_error, session.peer(), error, detail);
            return end_without_handler(std::move(state));
        }
        session.set_proxy_header(std::move(result.parse.header));
        // SPEC §5: the permit is taken after the header (the header decides who the client is).
        const Admission admission = state->permit ? Admission::admitted : admit(*state);
        if (admission == Admission::closed) return end_without_handler(std::move(state));
        after_proxy_header(handler, std::move(state), admission == Admission::busy_reply);
    }

    template <class Handler>
    void after_proxy_header(Handler& handler, state_ref state, bool refused) {
        if (refused) return send_busy_reply(std::move(state));
        const ResolvedListener& config = listener_->config;
        if (config.use_tls && config.tls_implicit) {
            session_type& session = state->session;
            session.async_implicit_tls([this, &handler, state = std::move(state)](std::error_code ec) mutable {
                if (ec) return end_without_handler(std::move(state));  // reported and closed by the handshake
                run_handler(handler, std::move(state));
            });
            return;
        }
        run_handler(handler, std::move(state));
    }

    /// The overload policy's busy line, then an orderly close (see BusyReply), within min(tlsTimeout, 5 s).
    void send_busy_reply(state_ref state) {
        session_type& session = state->session;
        const std::string_view reply = policies_->overload.busy_reply(listener_->config);
        const auto timeout = std::min(std::chrono::milliseconds(listener_->config.tls_timeout.milliseconds()),
                                      std::chrono::milliseconds(busy_reply_longest_wait));
        session.arm_deadline(timeout);
        asio::async_write(session.socket(), asio::buffer(reply.data(), reply.size()),
                          BusyReply{this, std::move(state)});
    }

    /// After the busy line: the send side is shut down and what the client still sends is read and
    /// dropped until it closes (or the deadline), so the kernel does not answer it with a reset that
    /// could destroy the line before the client reads it.
    struct BusyReply {
        BasicAcceptor* acceptor;
        state_ref state;
        bool draining = false;

        void operator()(std::error_code ec, std::size_t) {
            session_type& session = state->session;
            auto& sink = session.stream().plain().prefix();
            if (!ec && !draining) {
                draining = true;
                sink.clear();  // bytes that came with a PROXY header are dropped with the rest
                session.socket().shutdown(session_type::socket_type::shutdown_send, ec);
            }
            // Read into the free space without committing: the bytes are dropped, and the storage is
            // kept for the next read instead of being made anew for each.
            const auto space = ec ? std::span<std::uint8_t>{} : sink.free_space();
            if (space.empty()) {
                sink.clear();
                session.disarm_deadline();
                BasicAcceptor* owner = acceptor;
                owner->end_without_handler(std::move(state));
                return;
            }
            session.socket().async_read_some(asio::buffer(space.data(), space.size()), std::move(*this));
        }
    };

    // ---- the handler, whatever its shape ----

    /// What a callback handler calls when its session is over: once, with an error code (an error
    /// other than the client going away is reported). Carries the session's executor and its
    /// cancellation slot, so it can be passed as the completion token of the session's operations.
    class SessionDone {
    public:
        using executor_type = asio::any_io_executor;
        using cancellation_slot_type = asio::cancellation_slot;

        SessionDone(BasicAcceptor* acceptor, state_ref state) noexcept
            : acceptor_(acceptor), state_(std::move(state)) {}
        SessionDone(SessionDone&&) noexcept = default;
        SessionDone& operator=(SessionDone&&) noexcept = default;

        executor_type get_executor() const noexcept { return state_->session.get_executor(); }
        cancellation_slot_type get_cancellation_slot() const noexcept { return state_->cancellation.slot(); }

        void operator()(std::error_code ec = {}) {
            if (!state_) return;
            std::exception_ptr failure;
            if (ec) failure = std::make_exception_ptr(std::system_error(ec));
            acceptor_->end_session(std::move(state_), failure);
        }

    private:
        BasicAcceptor* acceptor_;
        state_ref state_;
    };

    template <class Handler>
    void run_handler(Handler& handler, state_ref state) {
        listener_->stats.session_started();
        session_type& session = state->session;
        if constexpr (CallbackSessionHandler<Handler, session_type>) {
            try {
                handler(session, SessionDone(this, state));
            } catch (...) {
                end_session(std::move(state), std::current_exception());
            }
        } else if constexpr (CoroutineSessionHandler<Handler, session_type>) {
            auto slot = state->cancellation.slot();
            asio::co_spawn(session.get_executor(), handler(session),
                           asio::bind_cancellation_slot(slot, [this, state = std::move(state)](
                                                                  std::exception_ptr failure) mutable {
                               end_session(std::move(state), failure);
                           }));
        } else {
            auto slot = state->cancellation.slot();
            asio::co_spawn(session.get_executor(), handler(session, asio::use_awaitable),
                           asio::bind_cancellation_slot(slot, [this, state = std::move(state)](
                                                                  std::exception_ptr failure, auto&&...) mutable {
                               end_session(std::move(state), failure);
                           }));
        }
    }

    /// The end of a session whose handler ran: once, whatever called it first.
    void end_session(state_ref state, std::exception_ptr failure) {
        if (state->ended) return;
        state->ended = true;
        listener_->stats.session_finished();
        if (failure && !stopping()) report_session_error(state->session, failure);
        end_without_handler(std::move(state));
    }

    /// Gives the permit back, closes the connection and takes the session out of the registry (on the
    /// acceptor's executor). The permit goes first: a client that sees the close and connects again at
    /// once must find it free, whatever still holds the session's block for a moment (a cancelled timer's
    /// completion, a handler's last reference).
    void end_without_handler(state_ref state) {
        state->ended = true;
        state->release_permit();
        state->session.close();
        if (!strand_per_session_) return unlink(state.get());  // one thread runs both: already there
        state_type* raw = state.get();
        asio::post(executor_, [this, raw, keep = std::move(state)] { unlink(raw); });
    }

    void report_session_error(session_type& session, std::exception_ptr failure) noexcept {
        try {
            std::rethrow_exception(failure);
        } catch (const std::system_error& e) {
            report(EventKind::session_error, session.peer(), e.code(), e.what());
        } catch (const std::exception& e) {
            report(EventKind::session_error, session.peer(), {}, e.what());
        } catch (...) {
            report(EventKind::session_error, session.peer(), {}, "unknown exception");
        }
    }

    Executor executor_;
    asio::io_context::executor_type session_executor_;
    bool strand_per_session_;
    typename state_type::socket_type socket_prototype_;  // closed; see new_session_socket()
    socket_acceptor_type acceptor_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>
        backoff_timer_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>
        permit_timer_;
    detail::ListenerRuntime* listener_;
    PolicyBundle* policies_;
    detail::ServerShared* shared_;
    BindPlan plan_;

    bool stopping_ = false;  // on the acceptor's executor, like the four below
    state_ref next_;         // the session the next accept fills
    endpoint_type peer_endpoint_;
    std::chrono::milliseconds pause_{0};
    unsigned accepted_in_turn_ = 0;  // accepts the direct accept made since it last gave way
    // The sessions' reactor (asio::detail::reactor) when one thread runs it; only BERTH_ASIO_INTERNALS sets
    // it, and it is there in every build so that the opt-in changes no class layout.
    void* unpolled_reactor_ = nullptr;
    std::atomic<bool> running_{false};
    state_type* registry_head_ = nullptr;
    std::atomic<std::size_t> registry_size_{0};
    bool backoff_reported_ = false;
    std::chrono::steady_clock::time_point last_backoff_report_{};
    std::array<char, 32> backoff_text_{};
};

}  // namespace berth
