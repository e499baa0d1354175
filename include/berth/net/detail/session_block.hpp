#pragma once
// Everything one connection owns, in one pooled block (SessionBlock), and the registry of the blocks
// an acceptor or server has accepted (SessionRegistry), which shutdown walks to cancel them. A block
// lives as long as something refers to it: the session start, the handler's completion, a pending
// deadline or cancellation. Its destruction gives back everything, on whatever path the session
// ended: the permit, the socket, its place in the registry and the count of live sessions.

#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "berth/net/detail/block_pool.hpp"
#include "berth/net/detail/listener_state.hpp"
#include "berth/net/detail/ref_counted.hpp"
#include "berth/net/session.hpp"

namespace berth::detail {

/// A block as the registry sees it.
class RegisteredSession : public RefCounted {
public:
    /// Terminal cancellation and the socket closed, on the session's own executor.
    virtual void cancel(Ref<RegisteredSession> self) = 0;

private:
    friend class SessionRegistry;
    RegisteredSession* previous_ = nullptr;
    RegisteredSession* next_ = nullptr;

protected:
    ~RegisteredSession() = default;
};

/// The accepted sessions of one acceptor or server, from accept until their block is destroyed. The
/// registry does not own them: a session ends when nothing refers to it, whether or not shutdown
/// ever looks. Any thread may link, unlink and walk.
class SessionRegistry {
public:
    void link(RegisteredSession& session) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        session.next_ = head_;
        if (head_) head_->previous_ = &session;
        head_ = &session;
        size_.fetch_add(1, std::memory_order_acq_rel);
    }
    void unlink(RegisteredSession& session) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session.previous_) session.previous_->next_ = session.next_;
        else head_ = session.next_;
        if (session.next_) session.next_->previous_ = session.previous_;
        session.previous_ = session.next_ = nullptr;
    }
    /// After the block is gone: the count falls last, so whoever waits for zero finds nothing left of it.
    /// True when it was the last one.
    bool count_gone() noexcept { return size_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

    [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }

    /// Cancels every session still alive. The references are taken under the lock and used outside
    /// it, so a session whose last reference goes here can unlink itself.
    void cancel_all() {
        std::vector<Ref<RegisteredSession>> alive;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (RegisteredSession* session = head_; session; session = session->next_)
                if (session->try_add_ref()) alive.push_back(Ref<RegisteredSession>::adopt(session));
        }
        for (auto& session : alive) {
            RegisteredSession* raw = session.get();
            try {
                raw->cancel(std::move(session));
            } catch (const std::bad_alloc&) {
                // Out of memory for the cancellation: the session ends on its own, or with its context.
            }
        }
    }

private:
    std::mutex mutex_;
    RegisteredSession* head_ = nullptr;
    std::atomic<std::size_t> size_{0};
};

/// What a block needs from the acceptor or server that accepted it; the block keeps it alive.
class SessionOwner {
public:
    SessionRegistry registry;
    PermitBoard permits;

    /// The last session is gone: shutdown may be complete.
    virtual void last_session_gone() noexcept = 0;

protected:
    ~SessionOwner() = default;
};

template <class Protocol, class Permit>
class SessionBlock final : public RegisteredSession {
public:
    using session_type = BasicSession<Protocol>;
    using socket_type = typename session_type::socket_type;

    /// A block for the next accept: not a session yet, and not counted.
    static Ref<SessionBlock> create(socket_type&& socket, ListenerState& listener, SessionServices& services,
                                    SessionOwner& owner) {
        using Pool = BlockPool<sizeof(SessionBlock), alignof(SessionBlock)>;
        void* memory = Pool::allocate();
        try {
            return Ref<SessionBlock>(::new (memory) SessionBlock(std::move(socket), listener, services, owner));
        } catch (...) {
            Pool::deallocate(memory);
            throw;
        }
    }

    /// The accept filled it: from now on it is a live session, registered, keeping its owner alive.
    void mark_accepted(std::shared_ptr<SessionOwner> owner) noexcept {
        owner_ = std::move(owner);
        owner_->registry.link(*this);
    }

    /// Gives the connection's permit back now rather than when the block goes; waiters hear of it.
    void release_permit() noexcept {
        if (!permit) return;
        permit.reset();
        owner_of().permits.permit_released();
    }

    /// The session is over (on its executor): the permit goes first, so a client that sees the close
    /// and connects again at once finds it free, whatever still holds the block for a moment.
    void end() noexcept {
        ended = true;
        release_permit();
        session.close();
    }

    void cancel(Ref<RegisteredSession> self) override {
        asio::post(session.get_executor(), [self = std::move(self), this] {
            cancellation.emit(asio::cancellation_type::terminal);
            session.close();
        });
    }

    [[nodiscard]] ListenerState& listener() const noexcept { return *listener_; }
    /// Events and the stop flag, for this block's listener.
    [[nodiscard]] SessionServices& services() const noexcept { return *services_; }
    [[nodiscard]] SessionOwner& owner_of() const noexcept { return *owner_of_; }

    session_type session;
    std::optional<Permit> permit;
    asio::cancellation_signal cancellation;
    bool handler_started = false;  // the two flags are touched on the session's executor only
    bool ended = false;

private:
    SessionBlock(socket_type&& socket, ListenerState& listener, SessionServices& services, SessionOwner& owner)
        : session(std::move(socket), listener.config, listener.tls_context ? &*listener.tls_context : nullptr,
                  services, *this),
          listener_(&listener), services_(&services), owner_of_(&owner) {}

    void destroy() noexcept override {
        using Pool = BlockPool<sizeof(SessionBlock), alignof(SessionBlock)>;
        release_permit();
        if (handler_started && !ended) listener_->stats.session_finished();
        std::shared_ptr<SessionOwner> owner = std::move(owner_);
        if (owner) owner->registry.unlink(*this);
        this->~SessionBlock();  // closes the socket
        Pool::deallocate(this);
        // Counted out only now that nothing of the session is left: a shutdown that completes on this
        // count may be followed at once by the end of the executor's context.
        if (owner && owner->registry.count_gone()) owner->last_session_gone();
    }

    ListenerState* listener_;
    SessionServices* services_;
    SessionOwner* owner_of_;
    std::shared_ptr<SessionOwner> owner_;  // set once accepted
};

}  // namespace berth::detail
