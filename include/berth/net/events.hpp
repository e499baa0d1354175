#pragma once
// Observability: the events an acceptor reports to the event-hook policy, and the per-listener counters
// a program can read at any time (atomics, relaxed: they are statistics, not synchronisation).

#include <atomic>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "berth/model/resolved_listener.hpp"
#include "berth/model/socket_addr.hpp"

namespace berth {

enum class EventKind : std::uint8_t {
    accepted,            ///< accept() returned a connection (peer: the TCP peer)
    refused_over_limit,  ///< the listener (or a global cap) was full; the overload policy handled it
    proxy_error,         ///< a trusted peer's PROXY header was invalid, truncated or too slow; closed
    tls_error,           ///< a TLS handshake failed; closed
    handshake_timeout,   ///< a TLS handshake did not finish within tlsTimeout; closed
    accept_backoff,      ///< accept() ran out of a resource; the acceptor pauses (reported at most once a second)
    socket_option_error, ///< an accepted-socket option could not be set; that connection is closed
    session_error,       ///< the session handler ended with an exception
};

[[nodiscard]] constexpr std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
    case EventKind::accepted: return "accepted";
    case EventKind::refused_over_limit: return "refused-over-limit";
    case EventKind::proxy_error: return "proxy-error";
    case EventKind::tls_error: return "tls-error";
    case EventKind::handshake_timeout: return "handshake-timeout";
    case EventKind::accept_backoff: return "accept-backoff";
    case EventKind::socket_option_error: return "socket-option-error";
    case EventKind::session_error: return "session-error";
    }
    return "unknown";
}

struct Event {
    EventKind kind;
    const ResolvedListener* listener = nullptr;
    std::optional<SocketAddr> peer;  ///< the effective peer; for accept_backoff, the listening address
    std::error_code error;           ///< the cause, when there is one
    std::string_view detail;         ///< more words: the PROXY error, the socket option, the backoff pause
};

/// Called from any of the server's threads, concurrently: an implementation must be thread-safe and
/// must not block (it runs on the I/O threads).
template <class P>
concept EventHook = requires(P& hook, const Event& event) { hook.on_event(event); };

struct NoEvents {
    void on_event(const Event&) const noexcept {}
};

/// Plain values copied out of ListenerStats.
struct ListenerStatsSnapshot {
    std::uint64_t accepted = 0;
    std::uint64_t refused_over_limit = 0;
    std::uint64_t proxy_errors = 0;
    std::uint64_t tls_errors = 0;
    std::uint64_t handshake_timeouts = 0;
    std::uint64_t accept_backoffs = 0;
    std::uint64_t socket_option_errors = 0;
    std::uint64_t session_errors = 0;
    std::uint64_t sessions_started = 0;   ///< the session handler was called
    std::uint64_t sessions_finished = 0;  ///< the session handler returned (or threw)
};

/// Counters of one listener, summed over its addresses and threads.
class ListenerStats {
public:
    void count(EventKind kind) noexcept { counter(kind).fetch_add(1, std::memory_order_relaxed); }
    void session_started() noexcept { sessions_started_.fetch_add(1, std::memory_order_relaxed); }
    void session_finished() noexcept { sessions_finished_.fetch_add(1, std::memory_order_relaxed); }

    [[nodiscard]] ListenerStatsSnapshot snapshot() const noexcept {
        auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
        return {get(accepted_),       get(refused_),       get(proxy_errors_),       get(tls_errors_),
                get(timeouts_),       get(backoffs_),      get(option_errors_),      get(session_errors_),
                get(sessions_started_), get(sessions_finished_)};
    }

private:
    std::atomic<std::uint64_t>& counter(EventKind kind) noexcept {
        switch (kind) {
        case EventKind::accepted: return accepted_;
        case EventKind::refused_over_limit: return refused_;
        case EventKind::proxy_error: return proxy_errors_;
        case EventKind::tls_error: return tls_errors_;
        case EventKind::handshake_timeout: return timeouts_;
        case EventKind::accept_backoff: return backoffs_;
        case EventKind::socket_option_error: return option_errors_;
        case EventKind::session_error: return session_errors_;
        }
        return session_errors_;
    }

    std::atomic<std::uint64_t> accepted_{0}, refused_{0}, proxy_errors_{0}, tls_errors_{0}, timeouts_{0},
        backoffs_{0}, option_errors_{0}, session_errors_{0}, sessions_started_{0}, sessions_finished_{0};
};

}  // namespace berth
