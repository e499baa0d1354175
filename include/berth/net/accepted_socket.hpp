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
// compiled only when the build opts in to Asio's internals (BERTH_ASIO_INTERNALS, detail/asio_internals.hpp),
// which is refused on any Asio but the one it was checked against (1.22 with epoll). Without it, connections
// are taken with Asio's async_accept.
//
// The same socket makes its first read wait without re-arming the reactor's registration when nothing
// can have polled since the accept (detail/unpolled_wait.hpp).

#include <asio/basic_stream_socket.hpp>
#include <asio/error.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>

#include <cstdint>
#include <system_error>
#include <utility>

#include "berth/net/detail/asio_internals.hpp"
#include "berth/net/detail/unpolled_wait.hpp"

#if BERTH_DIRECT_ACCEPT
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace berth {

/// An accepted connection's socket. It is an asio::basic_stream_socket in every respect; the additions
/// are accept_from(), used by the acceptor, and an async_wait that knows when a read wait needs no
/// re-arming (it hides the base class's; called through the base class, the wait is Asio's own).
///
/// A handler that duplicates the descriptor (dup(2), or fork(2) without exec) must release() the socket
/// before closing it, in every build: with BERTH_ASIO_INTERNALS the descriptor is closed without being
/// removed from the reactor first, as Asio does for sockets it opens itself, and the rule is the same
/// without it so that the opt-in changes nothing a handler may rely on.
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
    /// `unpolled_span` is the number of the detail::UnpolledSpan open around the call, or 0.
    template <class ListeningSocket>
    std::error_code accept_from(ListeningSocket& listening, typename Protocol::endpoint& peer,
                                std::uint64_t unpolled_span = 0) {
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
        unpolled_span_ = unpolled_span;
        return {};
    }
#endif

    /// asio::basic_socket::async_wait, except that a read wait on a socket accepted in the
    /// detail::UnpolledSpan still open on this thread joins the reactor's queue without a system call.
    template <class WaitToken = asio::default_completion_token_t<Executor>>
    auto async_wait(typename base_type::wait_type what,
                    WaitToken&& token = asio::default_completion_token_t<Executor>()) {
        return asio::async_initiate<WaitToken, void(std::error_code)>(
            [this](auto handler, typename base_type::wait_type wait) {
#if BERTH_DIRECT_ACCEPT
                // A wait that can be cancelled on its own is left to Asio, which wires that up.
                if (wait == base_type::wait_read && !asio::get_associated_cancellation_slot(handler).is_connected()) {
                    if (asio::detail::reactor* reactor = detail::UnpolledSpan::open_reactor(unpolled_span_)) {
                        auto& impl = this->impl_.get_implementation();
                        detail::UnpolledReadWaitOp<decltype(handler), Executor>::start(
                            *reactor, impl.socket_, impl.reactor_data_, handler, this->impl_.get_executor());
                        return;
                    }
                }
#endif
                this->base_type::async_wait(wait, std::move(handler));
            },
            token, what);
    }

private:
    // Set only with BERTH_ASIO_INTERNALS; there in every build so that the opt-in changes no class layout.
    std::uint64_t unpolled_span_ = 0;
};

}  // namespace berth
