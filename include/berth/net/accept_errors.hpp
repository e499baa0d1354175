#pragma once
// The accept-error policy: which accept() errors are skipped, which pause the acceptor with a backoff,
// and which end it (the listening socket was closed).

#include <cerrno>
#include <chrono>
#include <concepts>
#include <system_error>

#include "berth/net/detail/portable_error.hpp"

namespace berth {

enum class AcceptErrorAction {
    skip,      ///< the failed connection is gone; accept the next one at once
    back_off,  ///< the process or system is out of a resource; pause, then try again
    stop,      ///< the listening socket is closed: the acceptor ends
};

template <class P>
concept AcceptErrorPolicy = requires(const P& policy, std::error_code error, std::chrono::milliseconds previous) {
    { policy.classify(error) } -> std::same_as<AcceptErrorAction>;
    /// The next pause after `previous` (zero for the first one).
    { policy.next_backoff(previous) } -> std::same_as<std::chrono::milliseconds>;
    /// The shortest time between two reports of a backoff to the event hook.
    { policy.report_interval() } -> std::same_as<std::chrono::milliseconds>;
};

/// SPEC §5: ECONNABORTED, EINTR, EPROTO and a peer reset are skipped, and so are the network errors
/// Linux's accept(2) passes on from the new connection (its manual says to treat them like EAGAIN);
/// EMFILE, ENFILE, ENOBUFS and ENOMEM pause 5 ms, doubling up to 1 s, reset by a success. Any other
/// error also pauses: the loop must neither spin nor die.
struct DefaultAcceptErrors {
    std::chrono::milliseconds first_pause{5};
    std::chrono::milliseconds longest_pause{1000};
    std::chrono::milliseconds report_every{1000};

    [[nodiscard]] AcceptErrorAction classify(std::error_code error) const noexcept {
        switch (detail::os_error_number(error)) {
        case ECANCELED:  // the acceptor was closed or cancelled
        case EBADF:
        case EINVAL:     // not listening any more
            return AcceptErrorAction::stop;
        case ECONNABORTED:
        case EINTR:
        case EPROTO:
        case ECONNRESET:
        case EAGAIN:
        case EPERM:      // a firewall rule refused the connection
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case ETIMEDOUT:
            return AcceptErrorAction::skip;
        default:
            return AcceptErrorAction::back_off;  // EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected
        }
    }

    [[nodiscard]] std::chrono::milliseconds next_backoff(std::chrono::milliseconds previous) const noexcept {
        if (previous.count() <= 0) return first_pause;
        return previous * 2 < longest_pause ? previous * 2 : longest_pause;
    }

    [[nodiscard]] std::chrono::milliseconds report_interval() const noexcept { return report_every; }
};

}  // namespace berth
