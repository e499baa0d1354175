#pragma once
// Whether berth uses the parts of Asio's implementation it was checked against: the socket state flags
// and the epoll reactor of Asio 1.22 on Linux (the direct accept, and the first read wait without
// re-arming; docs/acceptor.md, "Asio's internals").
//
// By default berth uses Asio's public interface only, on any Asio from 1.22 on. BERTH_ASIO_INTERNALS=1
// (CMake: -DBERTH_ASIO_INTERNALS=ON) opts in; it is refused at compile time on any other Asio, platform or
// reactor, since the internals it relies on are not Asio's interface and change between releases. The
// opt-in changes no class layout and nothing a session handler can observe.

#include <asio/version.hpp>

#if defined(BERTH_ASIO_INTERNALS) && BERTH_ASIO_INTERNALS
#include <asio/detail/config.hpp>
#if !defined(__linux__) || ASIO_VERSION < 102200 || ASIO_VERSION >= 102300 || !defined(ASIO_HAS_EPOLL) || \
    defined(ASIO_HAS_IO_URING_AS_DEFAULT) || defined(ASIO_DISABLE_EPOLL)
#error "BERTH_ASIO_INTERNALS was written for Asio 1.22's epoll reactor on Linux; build without it on this Asio"
#endif
#define BERTH_DIRECT_ACCEPT 1
#else
#define BERTH_DIRECT_ACCEPT 0
#endif
