#pragma once
// A read wait that costs no system call, for a socket registered with the reactor since it last polled.
//
// Asio's epoll reactor registers a socket edge-triggered. A wait (async_wait) cannot know whether a
// readiness edge was already reported and consumed while nothing waited, so it re-arms the registration
// with EPOLL_CTL_MOD first: one system call per wait, which a bare epoll loop does not make. A socket
// registered during the current handler, on a context that only this thread runs, has had no edge
// consumed: the reactor polls between handlers, and nobody else polls it. Its first readiness, even one
// that came before the wait, is still to be reported, so the wait can simply join the reactor's queue.
//
// An UnpolledSpan marks that stretch: the acceptor opens one around its accepts when its sessions' context
// is run by one thread and this is that thread, and each socket it accepts records the span's number. A
// read wait on such a socket while that span is still open goes to the reactor as the operation below,
// which says "not ready" when the reactor tries it speculatively at the start and "ready" when the
// reactor performs it on an event; any other wait is Asio's. Asio forbids running a context from inside
// one of its own handlers, so nothing polls while the span is open.
//
// This uses Asio's reactor interface (asio::detail), so it is compiled only with BERTH_DIRECT_ACCEPT.

#include "berth/net/detail/asio_internals.hpp"

#if BERTH_DIRECT_ACCEPT

#include <asio/detail/bind_handler.hpp>
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_alloc_helpers.hpp>
#include <asio/detail/handler_cont_helpers.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/memory.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/io_context.hpp>

#include <cstdint>
#include <system_error>
#include <utility>

namespace berth::detail {

/// The stretch of one handler during which a reactor cannot poll (see above). Opened by constructing
/// one; nested spans for the same reactor share the outer one's number.
class UnpolledSpan {
public:
    /// Opens a span for `reactor`, or none when `reactor` is null or another reactor's span is open.
    explicit UnpolledSpan(asio::detail::reactor* reactor) noexcept {
        Current& current = current_span();
        if (current.number != 0) {
            if (current.reactor == reactor) number_ = current.number;
            return;
        }
        if (reactor == nullptr) return;
        current.number = ++last_number();
        current.reactor = reactor;
        number_ = current.number;
        owner_ = true;
    }
    UnpolledSpan(const UnpolledSpan&) = delete;
    UnpolledSpan& operator=(const UnpolledSpan&) = delete;
    ~UnpolledSpan() {
        if (owner_) current_span() = Current{};
    }

    /// The span's number, 0 when none was opened for this reactor. Sockets registered now record it.
    [[nodiscard]] std::uint64_t number() const noexcept { return number_; }

    /// The reactor of the span numbered `number` if that span is still open on this thread, else null.
    [[nodiscard]] static asio::detail::reactor* open_reactor(std::uint64_t number) noexcept {
        const Current& current = current_span();
        return number != 0 && current.number == number ? current.reactor : nullptr;
    }

    /// Whether `context` is run by one thread only, as its concurrency hint promises (the same test Asio's
    /// scheduler makes for its own one-thread shortcuts), so that a handler of it can open a span.
    [[nodiscard]] static bool single_threaded(asio::io_context& context) {
        const int hint = asio::use_service<asio::detail::scheduler>(context).concurrency_hint();
        return hint == 1 || !ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
               !ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
    }

private:
    struct Current {
        std::uint64_t number = 0;
        asio::detail::reactor* reactor = nullptr;
    };
    static Current& current_span() noexcept {
        thread_local Current current;
        return current;
    }
    static std::uint64_t& last_number() noexcept {
        thread_local std::uint64_t last = 0;
        return last;
    }

    std::uint64_t number_ = 0;
    bool owner_ = false;
};

/// Asio's wait operation, except for how it answers the reactor's speculative try at the start.
template <class Handler, class IoExecutor>
class UnpolledReadWaitOp : public asio::detail::reactor_op {
public:
    ASIO_DEFINE_HANDLER_PTR(UnpolledReadWaitOp);

    UnpolledReadWaitOp(Handler& handler, const IoExecutor& io_executor)
        : reactor_op(std::error_code{}, &UnpolledReadWaitOp::perform_wait, &UnpolledReadWaitOp::complete_wait),
          handler_(std::move(handler)), work_(handler_, io_executor) {}

    /// Starts the wait on the reactor's read queue of the socket `descriptor` (registered in `data`).
    static void start(asio::detail::reactor& reactor, int descriptor,
                      asio::detail::reactor::per_descriptor_data& data, Handler& handler,
                      const IoExecutor& io_executor) {
        const bool is_continuation = asio_handler_cont_helpers::is_continuation(handler);
        ptr p = {asio::detail::addressof(handler), ptr::allocate(handler), nullptr};
        p.p = new (p.v) UnpolledReadWaitOp(handler, io_executor);
        UnpolledReadWaitOp* op = p.p;
        reactor.start_op(asio::detail::reactor::read_op, descriptor, data, op, is_continuation,
                         /*allow_speculative=*/true);
        p.v = p.p = nullptr;
        // Only this thread runs the context, and it is here: the reactor has not performed the
        // operation since, nor has the scheduler completed it.
        op->starting_ = false;
    }

private:
    static status perform_wait(reactor_op* base) {
        return static_cast<UnpolledReadWaitOp*>(base)->starting_ ? not_done : done;
    }

    static void complete_wait(void* owner, asio::detail::operation* base, const std::error_code&, std::size_t) {
        auto* op = static_cast<UnpolledReadWaitOp*>(base);
        ptr p = {asio::detail::addressof(op->handler_), op, op};
        asio::detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
        // The handler moves out before the operation's memory goes back, which may belong to it.
        asio::detail::binder1<Handler, std::error_code> bound(op->handler_, op->ec_);
        p.h = asio::detail::addressof(bound.handler_);
        p.reset();
        if (owner) {
            asio::detail::fenced_block fence(asio::detail::fenced_block::half);
            work.complete(bound, bound.handler_);
        }
    }

    Handler handler_;
    asio::detail::handler_work<Handler, IoExecutor> work_;
    bool starting_ = true;
};

}  // namespace berth::detail

#endif  // BERTH_DIRECT_ACCEPT
