#pragma once
// What the accept loops of one acceptor or server share at run time: each listener's state
// (configuration, connection counter, counters, TLS context), and the board on which accept loops
// wait for a permit (the backpressure overload policy).

#include <asio/ssl/context.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/connection_limit.hpp"
#include "berth/net/events.hpp"

namespace berth::detail {

/// One listener at run time, shared by all its addresses and threads. Never moves once created.
struct ListenerState {
    explicit ListenerState(ResolvedListener listener)
        : config(std::move(listener)), connections(config.max_connections) {}
    ListenerState(const ListenerState&) = delete;
    ListenerState& operator=(const ListenerState&) = delete;

    ResolvedListener config;
    ConnectionCounter connections;
    ListenerStats stats;
    std::optional<asio::ssl::context> tls_context;  ///< set when the listener uses TLS
};

/// An acceptor that can wait for a permit.
class PermitWaiter {
public:
    std::atomic<bool> waiting{false};
    /// Called from any thread: make the waiting acceptor try again.
    virtual void wake() noexcept = 0;

protected:
    ~PermitWaiter() = default;
};

/// Acceptors waiting for a permit, woken when any permit is given back. No lock: the list is fixed
/// before accepting starts, and a waiter and a releaser meet through two atomics and seq_cst fences
/// (either the waiter's second try sees the freed permit, or the releaser sees the waiter).
class PermitBoard {
public:
    void add(PermitWaiter& waiter) { waiters_.push_back(&waiter); }

    void enter_wait(PermitWaiter& waiter) noexcept {
        waiter.waiting.store(true, std::memory_order_seq_cst);
        waiting_count_.fetch_add(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    void leave_wait(PermitWaiter& waiter) noexcept {
        if (waiter.waiting.exchange(false, std::memory_order_acq_rel))
            waiting_count_.fetch_sub(1, std::memory_order_acq_rel);
    }

    /// After a permit was given back.
    void permit_released() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (closed_.load(std::memory_order_acquire) || waiting_count_.load(std::memory_order_seq_cst) == 0) return;
        for (PermitWaiter* waiter : waiters_) {
            if (waiter->waiting.exchange(false, std::memory_order_acq_rel)) {
                waiting_count_.fetch_sub(1, std::memory_order_acq_rel);
                waiter->wake();
            }
        }
    }

    /// Before the acceptors are destroyed: no more wake-ups.
    void close() noexcept { closed_.store(true, std::memory_order_release); }
    void clear() noexcept { waiters_.clear(); }

private:
    std::vector<PermitWaiter*> waiters_;
    std::atomic<std::size_t> waiting_count_{0};
    std::atomic<bool> closed_{false};
};

}  // namespace berth::detail
