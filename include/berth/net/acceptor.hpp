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
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
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
    static Ref<SessionState> create(const asio::any_io_executor& executor, ListenerRuntime& listener,
                                    SessionServices& services, ServerShared& shared) {
        using Pool = BlockPool<sizeof(SessionState), alignof(SessionState)>;
        void* memory = Pool::allocate();
        try {
            return Ref<SessionState>(::new (memory) SessionState(executor, listener, services, shared));
        } catch (...) {
            Pool::deallocate(memory);
            throw;
        }
    }

    BasicSession<Protocol> session;
    std::optional<Permit> permit;
    asio::cancellation_signal cancellation;
    SessionState* previous = nullptr;  // the acceptor's registry, touched on the acceptor's executor only
    SessionState* next = nullptr;

private:
    SessionState(const asio::any_io_executor& executor, ListenerRuntime& listener, SessionServices& services,
                 ServerShared& shared)
        : session(executor, listener.config, listener.tls_context ? &*listener.tls_context : nullptr, services, *this),
          shared_(&shared) {
        shared.session_created();
    }

    void destroy() noexcept override {
        using Pool = BlockPool<sizeof(SessionState), alignof(SessionState)>;
        ServerShared& shared = *shared_;
        const bool had_permit = permit.has_value();
        this->~SessionState();  // gives the permit back, closes the socket
        Pool::deallocate(this);
        if (had_permit) shared.permits.permit_released();
        shared.session_destroyed();
    }

    ServerShared* shared_;
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
          strand_per_session_(strand_per_session), acceptor_(executor), backoff_timer_(executor),
          permit_timer_(executor), listener_(&listener), policies_(&policies), shared_(&shared),
          plan_(std::move(plan)) {
        if constexpr (PolicyBundle::overload_type::waits_for_permit) shared.permits.add(*this);
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
        asio::co_spawn(executor_, accept_loop(handler),
                       [this](std::exception_ptr) { running_.store(false, std::memory_order_release); });
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
    using awaitable_token = asio::use_awaitable_t<Executor>;
    using session_token = asio::use_awaitable_t<>;
    static constexpr auto busy_reply_longest_wait = std::chrono::milliseconds(5000);

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

    asio::awaitable<std::optional<permit_type>, Executor> wait_for_permit() {
        for (;;) {
            if (stopping_) co_return std::nullopt;
            if (auto permit = try_acquire()) co_return permit;
            shared_->permits.enter_wait(*this);
            if (auto permit = try_acquire()) {
                shared_->permits.leave_wait(*this);
                co_return permit;
            }
            permit_timer_.expires_at(std::chrono::steady_clock::time_point::max());
            std::error_code ignored;
            co_await permit_timer_.async_wait(asio::redirect_error(awaitable_token{}, ignored));
            shared_->permits.leave_wait(*this);
        }
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

    // ---- the accept loop ----
    asio::any_io_executor new_session_executor() const {
        if (strand_per_session_) return asio::make_strand(session_executor_);
        return session_executor_;
    }

    template <class Handler>
    asio::awaitable<void, Executor> accept_loop(Handler& handler) {
        std::chrono::milliseconds pause{0};
        detail::Ref<state_type> next;
        while (!stopping_) {
            std::error_code ec;
            try {
                if (!next) next = state_type::create(new_session_executor(), *listener_, *this, *shared_);
            } catch (const std::bad_alloc&) {
                ec = std::make_error_code(std::errc::not_enough_memory);
            }
            if (!ec) co_await acceptor_.async_accept(next->session.socket(), asio::redirect_error(awaitable_token{}, ec));
            if (ec) {
                const AcceptErrorAction action = policies_->accept_errors.classify(ec);
                if (stopping_ || action == AcceptErrorAction::stop) break;
                if (action == AcceptErrorAction::skip) continue;
                pause = policies_->accept_errors.next_backoff(pause);
                report_backoff(ec, pause);
                backoff_timer_.expires_after(pause);
                co_await backoff_timer_.async_wait(asio::redirect_error(awaitable_token{}, ec));
                continue;
            }
            pause = std::chrono::milliseconds(0);
            detail::Ref<state_type> state = std::move(next);
            if (!prepare(*state)) continue;
            const bool needs_proxy_header = trusted(state->session.tcp_peer());
            bool refused = false;
            if constexpr (PolicyBundle::overload_type::waits_for_permit) {
                // Backpressure: this acceptor holds the connection it has and accepts nothing more until
                // a permit frees; later connections wait in the kernel's backlog.
                state->permit = co_await wait_for_permit();
                if (!state->permit) {
                    state->session.close();
                    break;
                }
            } else if (!needs_proxy_header) {
                state->permit = try_acquire();
                if (!state->permit) {
                    report(EventKind::refused_over_limit, state->session.peer(), {}, {});
                    if (policies_->overload.busy_reply(listener_->config).empty()) {
                        state->session.close();
                        continue;
                    }
                    refused = true;
                }
            }
            try {
                spawn(std::move(state), handler, needs_proxy_header, refused);
            } catch (const std::bad_alloc&) {
                pause = policies_->accept_errors.next_backoff(pause);
                report_backoff(std::make_error_code(std::errc::not_enough_memory), pause);
            }
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
        std::error_code ec;
        const auto remote = session.socket().remote_endpoint(ec);
        if (ec) {  // the peer is already gone
            session.close();
            return false;
        }
        session.set_peers(to_socket_addr(remote));
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

    /// Runs the session coroutine on the session's strand; the acceptor's registry holds it until the
    /// coroutine has ended, so shutdown can cancel it.
    template <class Handler>
    void spawn(detail::Ref<state_type> state, Handler& handler, bool needs_proxy_header, bool refused) {
        link(state.get());
        auto executor = state->session.get_executor();
        asio::co_spawn(executor, run_session(state, handler, needs_proxy_header, refused),
                       asio::bind_cancellation_slot(state->cancellation.slot(),
                                                    [this, state](std::exception_ptr) mutable {
                                                        asio::post(executor_, [this, state = std::move(state)] {
                                                            unlink(state.get());
                                                        });
                                                    }));
    }

    template <class Handler>
    asio::awaitable<void> run_session(detail::Ref<state_type> state, Handler& handler, bool needs_proxy_header,
                                      bool refused) {
        session_type& session = state->session;
        const ResolvedListener& config = listener_->config;

        if (needs_proxy_header) {
            if (!co_await read_proxy_header(session)) co_return;
            if (!state->permit) {
                // SPEC §5: the permit is taken after the header (the header decides who the client is).
                state->permit = try_acquire();
                if (!state->permit) {
                    report(EventKind::refused_over_limit, session.peer(), {}, {});
                    refused = true;
                    if (policies_->overload.busy_reply(config).empty()) {
                        session.close();
                        co_return;
                    }
                }
            }
        }
        if (refused) {
            co_await send_busy_reply(session);
            co_return;
        }
        if (config.use_tls && config.tls_implicit) {
            std::error_code ec;
            co_await session.async_implicit_tls(asio::redirect_error(session_token{}, ec));
            if (ec) co_return;  // reported and closed by the handshake
        }

        listener_->stats.session_started();
        std::exception_ptr failure;
        try {
            co_await run_session_handler(handler, session);
        } catch (...) {
            failure = std::current_exception();
        }
        listener_->stats.session_finished();
        if (failure && !stopping()) report_session_error(session, failure);
        session.close();
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

    /// Reads the PROXY header of a trusted peer within tlsTimeout. False (reported, closed) on any problem.
    asio::awaitable<bool> read_proxy_header(session_type& session) {
        session.arm_deadline(listener_->config.tls_timeout);
        ProxyReadResult result = co_await async_read_proxy_header(
            session.stream().plain(), policies_->proxy_protocol.limits(), session_token{});
        std::error_code error = session.disarm_deadline() ? std::error_code(asio::error::timed_out) : result.error;
        std::string_view detail = result.parse.failed() ? describe(result.parse.error) : std::string_view{};
        if (!error && !policies_->proxy_protocol.accepts(result.parse.header.version)) {
            error = make_error_code(NetError::proxy_header_invalid);
            detail = result.parse.header.version == ProxyVersion::v1 ? "PROXY v1 is not accepted"
                                                                      : "PROXY v2 is not accepted";
        }
        if (error) {
            if (!stopping()) report(EventKind::proxy_error, session.peer(), error, detail);
            session.close();
            co_return false;
        }
        session.set_proxy_header(std::move(result.parse.header));
        co_return true;
    }

    /// The overload policy's busy line, then an orderly close: the send side is shut down and what the
    /// client still sends is read and dropped, so the kernel does not answer it with a reset that
    /// could destroy the line before the client reads it. Bounded by min(tlsTimeout, 5 s).
    asio::awaitable<void> send_busy_reply(session_type& session) {
        const std::string_view reply = policies_->overload.busy_reply(listener_->config);
        const auto timeout = std::min(std::chrono::milliseconds(listener_->config.tls_timeout.milliseconds()),
                                      std::chrono::milliseconds(busy_reply_longest_wait));
        session.arm_deadline(timeout);
        std::error_code ec;
        co_await asio::async_write(session.socket(), asio::buffer(reply.data(), reply.size()),
                                   asio::redirect_error(session_token{}, ec));
        if (!ec) session.socket().shutdown(session_type::socket_type::shutdown_send, ec);
        auto& sink = session.stream().plain().prefix();
        while (!ec) {
            sink.clear();
            const auto space = sink.free_space();
            co_await session.socket().async_read_some(asio::buffer(space.data(), space.size()),
                                                      asio::redirect_error(session_token{}, ec));
        }
        session.disarm_deadline();
        session.close();
    }

    Executor executor_;
    asio::io_context::executor_type session_executor_;
    bool strand_per_session_;
    socket_acceptor_type acceptor_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>
        backoff_timer_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>
        permit_timer_;
    detail::ListenerRuntime* listener_;
    PolicyBundle* policies_;
    detail::ServerShared* shared_;
    BindPlan plan_;

    bool stopping_ = false;  // on the acceptor's executor
    std::atomic<bool> running_{false};
    state_type* registry_head_ = nullptr;
    std::atomic<std::size_t> registry_size_{0};
    bool backoff_reported_ = false;
    std::chrono::steady_clock::time_point last_backoff_report_{};
    std::array<char, 32> backoff_text_{};
};

}  // namespace berth
