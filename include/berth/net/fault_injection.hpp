#pragma once
// Fault injection for tests, after Beast's fail_count: a countdown shared by every session of an
// acceptor or server that fails the Nth step of a session's start. A test runs the same connection
// for N = 1, 2, ... until a run reaches its end without the countdown firing, and checks after each
// run that nothing was kept (no live session, no permit). Off unless a FailCount is passed in the
// options; then each step costs one atomic decrement.

#include <atomic>
#include <cstddef>
#include <optional>
#include <string_view>

namespace berth {

/// The steps of a session's start that can be failed, in the order a connection meets them.
enum class SessionStep : unsigned char {
    accept,          ///< the accept itself: the connection is closed as a connection the kernel aborted
    socket_options,  ///< the accepted-socket options: as if setting one failed
    session_launch,  ///< handing the session to its executor: as if allocating failed
    proxy_read,      ///< the PROXY header from a trusted peer: as if it could not be read
    permit,          ///< the connection's permit: as if the listener were full
    tls_handshake,   ///< implicit TLS: as if the handshake failed
    handler_start,   ///< starting the session handler: as if it threw
};

[[nodiscard]] constexpr std::string_view to_string(SessionStep step) noexcept {
    switch (step) {
    case SessionStep::accept: return "accept";
    case SessionStep::socket_options: return "socket options";
    case SessionStep::session_launch: return "session launch";
    case SessionStep::proxy_read: return "PROXY read";
    case SessionStep::permit: return "permit";
    case SessionStep::tls_handshake: return "TLS handshake";
    case SessionStep::handler_start: return "handler start";
    }
    return "unknown";
}

/// Fails the Nth step it is asked about (N counted from 1), once; every other step passes.
class FailCount {
public:
    explicit FailCount(std::size_t n) noexcept : remaining_(n) {}
    FailCount(const FailCount&) = delete;
    FailCount& operator=(const FailCount&) = delete;

    /// Called at each step: true when this is the one to fail.
    [[nodiscard]] bool fail(SessionStep step) noexcept {
        std::size_t remaining = remaining_.load(std::memory_order_relaxed);
        while (remaining != 0) {
            if (remaining_.compare_exchange_weak(remaining, remaining - 1, std::memory_order_acq_rel)) {
                if (remaining != 1) return false;
                failed_step_.store(static_cast<int>(step), std::memory_order_release);
                return true;
            }
        }
        return false;
    }

    /// Whether the countdown fired, and at which step.
    [[nodiscard]] std::optional<SessionStep> failed_step() const noexcept {
        const int step = failed_step_.load(std::memory_order_acquire);
        if (step < 0) return std::nullopt;
        return static_cast<SessionStep>(step);
    }

private:
    std::atomic<std::size_t> remaining_;
    std::atomic<int> failed_step_{-1};
};

}  // namespace berth
