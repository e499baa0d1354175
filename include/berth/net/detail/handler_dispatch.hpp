#pragma once
// The session handler, whatever its shape (session_handler.hpp), started on a ready session, and the
// end of that session: once, whatever ends it first (the handler completes or throws, a callback
// handler's completion is called or destroyed uncalled).

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "berth/net/detail/ref_counted.hpp"
#include "berth/net/events.hpp"
#include "berth/net/fault_injection.hpp"
#include "berth/net/session_handler.hpp"

namespace berth::detail {

template <class Block>
void report_session_error(Block& block, std::exception_ptr failure) noexcept {
    auto& session = block.session;
    try {
        std::rethrow_exception(failure);
    } catch (const std::system_error& e) {
        block.services().report(EventKind::session_error, session.peer(), e.code(), e.what());
    } catch (const std::exception& e) {
        block.services().report(EventKind::session_error, session.peer(), {}, e.what());
    } catch (...) {
        block.services().report(EventKind::session_error, session.peer(), {}, "unknown exception");
    }
}

/// The end of a session whose handler ran, on the session's executor: once, whatever called it first.
/// An error is reported unless the server is stopping (then it is the cancellation's).
template <class Block>
void end_session(Block& block, std::exception_ptr failure) noexcept {
    if (block.ended) return;
    block.listener().stats.session_finished();
    if (failure && !block.services().stopping()) report_session_error(block, failure);
    block.end();
}

/// What a callback handler calls when its session is over: once, with an error code (an error other
/// than the client going away is reported). Destroyed without being called, it ends the session all
/// the same. Carries the session's executor and its cancellation slot, so it can be passed as the
/// completion token of the session's operations.
template <class Block>
class SessionDone {
public:
    using executor_type = typename Block::session_type::executor_type;
    using cancellation_slot_type = asio::cancellation_slot;

    explicit SessionDone(Ref<Block> block) noexcept : block_(std::move(block)) {}
    SessionDone(SessionDone&&) noexcept = default;
    SessionDone& operator=(SessionDone&& other) noexcept {
        if (this != &other) {
            abandon();
            block_ = std::move(other.block_);
        }
        return *this;
    }
    SessionDone(const SessionDone&) = delete;
    SessionDone& operator=(const SessionDone&) = delete;
    ~SessionDone() { abandon(); }

    executor_type get_executor() const noexcept { return block_->session.get_executor(); }
    cancellation_slot_type get_cancellation_slot() const noexcept { return block_->cancellation.slot(); }

    void operator()(std::error_code ec = {}) {
        if (!block_) return;
        Ref<Block> block = std::move(block_);
        std::exception_ptr failure;
        if (ec) failure = std::make_exception_ptr(std::system_error(ec));
        end_session(*block, failure);
    }

private:
    /// Dropped uncalled (from whatever thread): the session ends on its own executor. Should even that
    /// post fail, the block's destruction still gives back the permit and the socket.
    void abandon() noexcept {
        if (!block_) return;
        Ref<Block> block = std::move(block_);
        try {
            auto executor = block->session.get_executor();
            asio::post(executor, [block = std::move(block)] { end_session(*block, nullptr); });
        } catch (...) {
        }
    }

    Ref<Block> block_;
};

/// Starts `handler` on the ready session of `block`, on the session's executor. Whatever fails on
/// the way (an allocation for the coroutine frame, a callback handler that throws) ends the session.
template <class Block, class Handler>
void dispatch_handler(Handler& handler, Ref<Block> block, FailCount* fail) {
    using session_type = typename Block::session_type;
    block->handler_started = true;
    block->listener().stats.session_started();
    session_type& session = block->session;
    Block& raw = *block;
    try {
        if (fail && fail->fail(SessionStep::handler_start)) throw std::runtime_error("injected fault: handler start");
        if constexpr (CallbackSessionHandler<Handler, session_type>) {
            const Ref<Block> keep = block;  // the catch below needs the block, whatever became of `block`
            try {
                handler(session, SessionDone<Block>(std::move(block)));
            } catch (...) {
                end_session(*keep, std::current_exception());
            }
        } else if constexpr (CoroutineSessionHandler<Handler, session_type>) {
            auto slot = block->cancellation.slot();
            asio::co_spawn(session.get_executor(), handler(session),
                           asio::bind_cancellation_slot(slot, [block](std::exception_ptr failure) {
                               end_session(*block, failure);
                           }));
        } else {
            auto slot = block->cancellation.slot();
            asio::co_spawn(session.get_executor(), handler(session, asio::use_awaitable),
                           asio::bind_cancellation_slot(slot, [block](std::exception_ptr failure, auto&&...) {
                               end_session(*block, failure);
                           }));
        }
    } catch (...) {
        // The injected fault, or co_spawn out of memory: `block` still holds the session (only the
        // callback shape moves it out, and that shape has a catch of its own).
        end_session(raw, std::current_exception());
    }
}

}  // namespace berth::detail
