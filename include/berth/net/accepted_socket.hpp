#pragma once
// The socket of an accepted connection: Asio's stream socket, plus a direct accept that costs the
// system calls a bare epoll loop makes and no more (docs/performance.md, "the plain path").
//
// Asio's own accept (1.22) makes the connection with accept(2), so its first asynchronous operation
// sets non-blocking mode with ioctl(FIONBIO); and because Asio adopts the descriptor with assign(),
// it marks it "possibly duplicated" and removes it from the epoll set (EPOLL_CTL_DEL) before closing
// it. A descriptor berth takes from accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) is non-blocking already and
// is nobody's duplicate, so berth records both facts in the socket's state when it adopts it, as Asio
// itself does for a socket it opens. That state is Asio's implementation detail: the direct accept is
// compiled only for the Asio versions and reactor it was checked against (1.22 with epoll) and falls
// back to Asio's accept elsewhere, or when BERTH_ASIO_ACCEPT is defined.

#include <asio/basic_stream_socket.hpp>
#include <asio/error.hpp>
#include <asio/version.hpp>

#include <system_error>
#include <utility>

#if !defined(BERTH_ASIO_ACCEPT) && defined(__linux__) && ASIO_VERSION >= 102200 && ASIO_VERSION < 102300 && \
    defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(ASIO_DISABLE_EPOLL)
#define BERTH_DIRECT_ACCEPT 1
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#else
#define BERTH_DIRECT_ACCEPT 0
#endif

namespace berth {

/// An accepted connection's socket. It is an asio::basic_stream_socket in every respect; the one
/// addition is accept_from(), used by the acceptor.
///
/// With the direct accept the socket's descriptor is closed without being removed from the reactor
/// first, as Asio does for sockets it opens itself: a handler that duplicates the descriptor (dup(2),
/// or fork(2) without exec) must release() the socket before closing it.
template <class Protocol, class Executor>
class BasicAcceptedSocket : public asio::basic_stream_socket<Protocol, Executor> {
    using base_type = asio::basic_stream_socket<Protocol, Executor>;

public:
    using base_type::base_type;

    /// Whether the acceptor takes connections with accept_from() (true), or with Asio's async_accept
    /// (false).
    static constexpr bool direct_accept = BERTH_DIRECT_ACCEPT != 0;

#if BERTH_DIRECT_ACCEPT
    /// Takes one pending connection of `listening` (a non-blocking listening socket) into this closed
    /// socket, writing the peer's address into `peer`. Returns asio::error::would_block when none is
    /// pending; on any error this socket stays closed.
    template <class ListeningSocket>
    std::error_code accept_from(ListeningSocket& listening, typename Protocol::endpoint& peer) {
        socklen_t length = static_cast<socklen_t>(peer.capacity());
        int descriptor = -1;
        do {
            descriptor = ::accept4(listening.native_handle(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        } while (descriptor < 0 && errno == EINTR);
        if (descriptor < 0) {
            const int error = errno;
            if (error == EAGAIN || error == EWOULDBLOCK) return asio::error::would_block;
            return {error, asio::error::get_system_category()};
        }
        peer.resize(static_cast<std::size_t>(length));
        std::error_code ec;
        this->assign(peer.protocol(), descriptor, ec);
        if (ec) {
            ::close(descriptor);
            return ec;
        }
        // The descriptor is non-blocking (SOCK_NONBLOCK) and was made here, so it is no duplicate.
        auto& state = this->impl_.get_implementation().state_;
        state = static_cast<asio::detail::socket_ops::state_type>(
            (state | asio::detail::socket_ops::internal_non_blocking) & ~asio::detail::socket_ops::possible_dup);
        return {};
    }
#endif
};

}  // namespace berth
