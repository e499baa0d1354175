#pragma once
// One listening socket and its accept loop: set up (options, bind, listen), then accept, the
// accepted-socket options, the permit (or, for a trusted proxy, the decision to read its header
// first), and the hand-over of each session to its own executor, where the session start goes on.
// Accept errors are classified by the policy: skipped, or a pause with backoff, reported at most once
// per interval. Under the backpressure overload policy, a full listener stops the loop until a
// permit is given back.
//
// The loop is a chain of completion handlers on its executor (a strand of the shard's executor, or
// the executor itself when it is serial), callbacks rather than a coroutine: a connection costs a few
// hundred nanoseconds of this loop's time, and every coroutine resumption and type-erased dispatch on
// the way is a measurable share. The chain carries a reference to its owner, so a loop keeps
// everything it uses alive until its last handler has run, or has been destroyed with its context.

#include <asio/basic_socket_acceptor.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/detail/listener_state.hpp"
#include "berth/net/detail/portable_error.hpp"
#include "berth/net/detail/session_block.hpp"
#include "berth/net/detail/session_start.hpp"
#include "berth/net/endpoint.hpp"
#include "berth/net/events.hpp"
#include "berth/net/fault_injection.hpp"
#include "berth/net/session.hpp"
#include "berth/net/socket_options.hpp"

#if BERTH_DIRECT_ACCEPT
#include "berth/net/detail/unpolled_wait.hpp"
#endif

namespace berth {

/// Why setting up a listening socket failed: the step ("open", "set SO_REUSEPORT", "bind", "listen")
/// and the OS reason.
struct SetupFailure {
    std::string step;
    std::error_code error;
};

namespace detail {

/// `Owner` provides: policies_type, block_type, policies(), fail_count(), serial_executor(),
/// session_owner(keep), loop_ended(); it is a SessionOwner (registry and permit board).
template <class Owner>
class AcceptLoop final : private PermitWaiter {
public:
    using protocol_type = typename Owner::protocol_type;
    using policies_type = typename Owner::policies_type;
    using block_type = typename Owner::block_type;
    using block_ref = Ref<block_type>;
    using session_type = typename block_type::session_type;
    using socket_type = typename block_type::socket_type;
    using executor_type = asio::any_io_executor;
    using endpoint_type = typename protocol_type::endpoint;
    using socket_acceptor_type = asio::basic_socket_acceptor<protocol_type, executor_type>;
    using permit_type = typename policies_type::connection_limit_type::permit_type;
    using keep_type = std::shared_ptr<Owner>;

    /// `shard` runs this loop's sessions (each on a strand of its own unless the owner's executors are
    /// serial); the loop itself runs on a strand of it, or on it.
    AcceptLoop(Owner& owner, const executor_type& shard, ListenerState& listener, SessionServices& reporter,
               BindPlan plan)
        : owner_(&owner), shard_(shard),
          executor_(owner.serial_executor() ? shard : executor_type(asio::make_strand(shard))),
          socket_prototype_(shard), acceptor_(executor_), backoff_timer_(executor_), permit_timer_(executor_),
          listener_(&listener), reporter_(&reporter), plan_(std::move(plan)) {
        if (owner.serial_executor()) {
            if (const auto* io = shard_.template target<asio::io_context::executor_type>()) inline_executor_ = *io;
        }
        if constexpr (policies_type::overload_type::waits_for_permit) owner.permits.add(*this);
#if BERTH_DIRECT_ACCEPT
        // Only a serial io_context's own executor: the first wait without re-arming needs its one thread.
        if (inline_executor_ && UnpolledSpan::single_threaded(inline_executor_->context()))
            unpolled_reactor_ = &asio::use_service<asio::detail::reactor>(inline_executor_->context());
#endif
    }
    AcceptLoop(const AcceptLoop&) = delete;
    AcceptLoop& operator=(const AcceptLoop&) = delete;
    ~AcceptLoop() = default;

    [[nodiscard]] const BindPlan& plan() const noexcept { return plan_; }
    [[nodiscard]] const ResolvedListener& listener() const noexcept { return listener_->config; }
    [[nodiscard]] socket_acceptor_type& socket() noexcept { return acceptor_; }

    /// Opens the socket, sets the listening options (before bind), binds. On failure the socket is
    /// closed at once: a socket whose bind failed is never listened on.
    std::optional<SetupFailure> open_and_bind() {
        const endpoint_type endpoint = to_endpoint<protocol_type>(plan_.address);
        std::error_code ec;
        acceptor_.open(endpoint.protocol(), ec);
        if (ec) return fail("open", ec);
        if (const OptionFailure option =
                owner_->policies().socket_options.apply_to_listening(listener_->config, plan_, acceptor_))
            return fail("set " + std::string(option.option), option.error);
        acceptor_.bind(endpoint, ec);
        if (ec) return fail("bind", ec);
        return std::nullopt;
    }

    std::optional<SetupFailure> listen() {
        std::error_code ec;
        acceptor_.listen(owner_->policies().socket_options.backlog(listener_->config), ec);
        if (ec) return fail("listen", ec);
        return std::nullopt;
    }

    [[nodiscard]] endpoint_type local_endpoint() const {
        std::error_code ignored;
        return acceptor_.local_endpoint(ignored);
    }

    /// Starts the loop on its executor. `handler` lives as long as the owner.
    template <class Handler>
    void start(Handler& handler, keep_type keep) {
        asio::dispatch(executor_, [this, &handler, keep = std::move(keep)]() mutable {
            if constexpr (socket_type::direct_accept) {
                // accept4() on the listening socket must never block.
                std::error_code ec;
                acceptor_.native_non_blocking(true, ec);
                if (ec) return accept_failed(handler, ec, std::move(keep));
            }
            accept_next(handler, std::move(keep));
        });
    }

    /// Stops accepting and closes the listening socket, on the loop's executor. Sessions go on.
    void stop(keep_type keep) {
        asio::post(executor_, [this, keep = std::move(keep)] {
            stopping_ = true;
            close_now();
        });
    }

    /// Closes the listening socket and stops the timers: on the loop's executor, or while no thread runs it.
    void close_now() noexcept {
        std::error_code ignored;
        acceptor_.close(ignored);
        backoff_timer_.cancel();
        permit_timer_.cancel();
    }

private:
    /// Accepts (and failed accepts) the direct accept makes in a row before the sessions it started get
    /// their turn; also the bound on how deep its calls nest.
    static constexpr unsigned accept_batch = 16;

    std::optional<SetupFailure> fail(std::string step, std::error_code ec) {
        close_now();
        return SetupFailure{std::move(step), portable_error(ec)};
    }

    void report(EventKind kind, const SocketAddr& peer, std::error_code error, std::string_view detail) noexcept {
        reporter_->report(kind, peer, error, detail);
    }

    [[nodiscard]] FailCount* fail_count() const noexcept { return owner_->fail_count(); }
    [[nodiscard]] bool inject(SessionStep step) const noexcept {
        FailCount* count = fail_count();
        return count != nullptr && count->fail(step);
    }

    // ---- backpressure (PermitWaiter): called from any thread when a permit is given back ----
    void wake() noexcept override {
        try {
            if (keep_type keep = owner_->weak_from_this().lock())
                asio::post(executor_, [this, keep = std::move(keep)] { permit_timer_.cancel(); });
        } catch (...) {  // out of memory for the wake-up: the next permit given back tries again
        }
    }

    std::optional<permit_type> try_acquire() {
        return owner_->policies().connection_limit.try_acquire(listener_->connections);
    }

    /// A closed socket for the next session: on a strand of its own, or a move from the prototype,
    /// which leaves the prototype as it was (Asio: a moved-from socket is as if made anew with its
    /// executor) without the look-up of the socket service that making a socket costs.
    socket_type new_session_socket() {
        if (!owner_->serial_executor()) return socket_type(executor_type(asio::make_strand(shard_)));
        return socket_type(std::move(socket_prototype_));
    }

    template <class Handler>
    void accept_next(Handler& handler, keep_type keep) {
        if (stopping_) return loop_ended(std::move(keep));
        std::error_code ec;
        try {
            if (!next_) next_ = block_type::create(new_session_socket(), *listener_, *reporter_, *owner_);
        } catch (const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
        if (ec) return accept_failed(handler, ec, std::move(keep));
        if constexpr (socket_type::direct_accept) {
            accept_direct(handler, std::move(keep));
        } else {
            acceptor_.async_accept(next_->session.socket(), peer_endpoint_,
                                   [this, &handler, keep = std::move(keep)](std::error_code error) mutable {
                                       accepted(handler, error, std::move(keep));
                                   });
        }
    }

#if BERTH_DIRECT_ACCEPT
    /// Takes the next pending connection at once when there is one (as the epoll loop does), else waits
    /// for the listening socket to become readable. After accept_batch connections in a row the loop
    /// goes through the executor's queue, so the sessions it started get their turn.
    template <class Handler>
    void accept_direct(Handler& handler, keep_type keep) {
        if (accepted_in_turn_ == accept_batch) {
            accepted_in_turn_ = 0;
            asio::post(executor_, [this, &handler, keep = std::move(keep)]() mutable {
                accept_next(handler, std::move(keep));
            });
            return;
        }
        // On the one thread of the sessions' context, nothing polls its reactor until this returns: the
        // sessions started here make their first read wait without re-arming (detail/unpolled_wait.hpp).
        const UnpolledSpan span(unpolled_reactor_ != nullptr && inline_executor_ &&
                                        inline_executor_->running_in_this_thread()
                                    ? static_cast<asio::detail::reactor*>(unpolled_reactor_)
                                    : nullptr);
        const std::error_code ec = next_->session.socket().accept_from(acceptor_, peer_endpoint_, span.number());
        if (ec == asio::error::would_block) {
            accepted_in_turn_ = 0;
            acceptor_.async_wait(socket_acceptor_type::wait_read,
                                 [this, &handler, keep = std::move(keep)](std::error_code error) mutable {
                                     if (error) return accept_failed(handler, error, std::move(keep));
                                     accept_next(handler, std::move(keep));
                                 });
            return;
        }
        ++accepted_in_turn_;  // failures count too: a run of skipped errors must not nest calls without end
        accepted(handler, ec, std::move(keep));
    }
#endif

    template <class Handler>
    void accept_failed(Handler& handler, std::error_code ec, keep_type keep) {
        const AcceptErrorAction action = owner_->policies().accept_errors.classify(ec);
        if (stopping_ || action == AcceptErrorAction::stop) return loop_ended(std::move(keep));
        if (action == AcceptErrorAction::skip) return accept_next(handler, std::move(keep));
        pause_ = owner_->policies().accept_errors.next_backoff(pause_);
        report_backoff(ec, pause_);
        backoff_timer_.expires_after(pause_);
        backoff_timer_.async_wait([this, &handler, keep = std::move(keep)](std::error_code) mutable {
            accept_next(handler, std::move(keep));
        });
    }

    /// The last step of the chain: `keep` may be the last reference to the owner, and so to this loop.
    void loop_ended(keep_type keep) noexcept {
        next_ = {};  // the block made ahead for the next accept
        owner_->loop_ended();
        keep.reset();
    }

    template <class Handler>
    void accepted(Handler& handler, std::error_code ec, keep_type keep) {
        if (!ec && inject(SessionStep::accept)) {
            next_->session.close();
            ec = asio::error::connection_aborted;
        }
        if (ec) return accept_failed(handler, ec, std::move(keep));
        pause_ = std::chrono::milliseconds(0);
        block_ref block = std::move(next_);
        block->mark_accepted(owner_->session_owner(keep));
        if (!prepare(*block)) return accept_next(handler, std::move(keep));
        const bool needs_proxy_header = trusted(block->session.tcp_peer());
        if constexpr (policies_type::overload_type::waits_for_permit) {
            // Backpressure: this loop holds the connection it has and accepts nothing more until a
            // permit frees; later connections wait in the kernel's backlog.
            return wait_for_permit(handler, std::move(block), needs_proxy_header, std::move(keep));
        } else {
            Admission admission = Admission::admitted;
            if (!needs_proxy_header) admission = admit(owner_->policies(), *block, fail_count());
            if (admission == Admission::closed) {
                block->end();
                return accept_next(handler, std::move(keep));
            }
            launch(handler, std::move(block), needs_proxy_header, admission == Admission::busy_reply);
            accept_next(handler, std::move(keep));
        }
    }

    template <class Handler>
    void wait_for_permit(Handler& handler, block_ref block, bool needs_proxy_header, keep_type keep) {
        if (stopping_) {
            block->end();
            return loop_ended(std::move(keep));
        }
        std::optional<permit_type> permit = try_acquire();
        if (!permit) {
            owner_->permits.enter_wait(*this);
            permit = try_acquire();
            if (!permit) {
                permit_timer_.expires_at(std::chrono::steady_clock::time_point::max());
                permit_timer_.async_wait([this, &handler, block = std::move(block), needs_proxy_header,
                                          keep = std::move(keep)](std::error_code) mutable {
                    owner_->permits.leave_wait(*this);
                    wait_for_permit(handler, std::move(block), needs_proxy_header, std::move(keep));
                });
                return;
            }
            owner_->permits.leave_wait(*this);
        }
        block->permit = std::move(permit);
        launch(handler, std::move(block), needs_proxy_header, false);
        accept_next(handler, std::move(keep));
    }

    /// Hands the session to its executor. Should that fail for want of memory, the session's block goes
    /// with everything it holds, and the loop pauses as for an accept error.
    template <class Handler>
    void launch(Handler& handler, block_ref block, bool needs_proxy_header, bool refused) {
        using start_type = SessionStart<policies_type, block_type, Handler>;
        try {
            if (inject(SessionStep::session_launch)) throw std::bad_alloc();
            // On the thread of a serial io_context, start at once: what dispatch() would do, without
            // wrapping the call for the type-erased executor.
            start_type start(owner_->policies(), handler, fail_count(), std::move(block), needs_proxy_header, refused);
            if (inline_executor_ && inline_executor_->running_in_this_thread()) return start();
            auto executor = start.session_executor();
            asio::dispatch(executor, std::move(start));
        } catch (const std::bad_alloc&) {
            pause_ = owner_->policies().accept_errors.next_backoff(pause_);
            report_backoff(std::make_error_code(std::errc::not_enough_memory), pause_);
        }
    }

    /// An accept error pauses the loop; the hook hears of it at most once per report interval.
    void report_backoff(std::error_code ec, std::chrono::milliseconds pause) {
        const auto now = std::chrono::steady_clock::now();
        if (backoff_reported_ && now - last_backoff_report_ < owner_->policies().accept_errors.report_interval()) {
            listener_->stats.count(EventKind::accept_backoff);
            return;
        }
        backoff_reported_ = true;
        last_backoff_report_ = now;
        char* end =
            std::to_chars(backoff_text_.data(), backoff_text_.data() + backoff_text_.size() - 3, pause.count()).ptr;
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
    bool prepare(block_type& block) {
        session_type& session = block.session;
        SessionAccess::set_peers(session, to_socket_addr(peer_endpoint_));
        report(EventKind::accepted, session.peer(), {}, {});
        const AcceptedSocket accepted{session.tcp_peer(), plan_.address.address().is_v6()};
        OptionFailure option =
            owner_->policies().socket_options.apply_to_accepted(listener_->config, accepted, session.socket());
        if (!option && inject(SessionStep::socket_options))
            option = OptionFailure{"injected fault", std::make_error_code(std::errc::invalid_argument)};
        if (option) {
            report(EventKind::socket_option_error, session.peer(), option.error, option.option);
            block.end();
            return false;
        }
        return true;
    }

    Owner* owner_;
    executor_type shard_;
    executor_type executor_;
    socket_type socket_prototype_;  // closed; see new_session_socket()
    socket_acceptor_type acceptor_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, executor_type>
        backoff_timer_;
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, executor_type>
        permit_timer_;
    ListenerState* listener_;
    SessionServices* reporter_;
    BindPlan plan_;
    // The shard's io_context executor when the owner's executors are serial and this is one: sessions
    // started on its thread start at once.
    std::optional<asio::io_context::executor_type> inline_executor_;

    bool stopping_ = false;  // on the loop's executor, like the four below
    block_ref next_;         // the block the next accept fills
    endpoint_type peer_endpoint_;
    std::chrono::milliseconds pause_{0};
    unsigned accepted_in_turn_ = 0;  // accepts the direct accept made since it last gave way
    // The sessions' reactor (asio::detail::reactor) when one thread runs it; only BERTH_ASIO_INTERNALS sets
    // it, and it is there in every build so that the opt-in changes no class layout.
    void* unpolled_reactor_ = nullptr;
    bool backoff_reported_ = false;
    std::chrono::steady_clock::time_point last_backoff_report_{};
    std::array<char, 32> backoff_text_{};
};

}  // namespace detail

}  // namespace berth
