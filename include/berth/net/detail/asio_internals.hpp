#pragma once
// Whether berth may use the parts of Asio's implementation it was checked against: the socket state
// flags and the epoll reactor of Asio 1.22 on Linux. BERTH_DIRECT_ACCEPT is 1 there and 0 elsewhere, or
// when BERTH_ASIO_ACCEPT is defined (the portable path through Asio's public interface only). Everything
// that depends on it has a fallback that works on any Asio; docs/acceptor.md lists what it changes.

#include <asio/detail/config.hpp>
#include <asio/version.hpp>

#if !defined(BERTH_ASIO_ACCEPT) && defined(__linux__) && ASIO_VERSION >= 102200 && ASIO_VERSION < 102300 && \
    defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(ASIO_DISABLE_EPOLL)
#define BERTH_DIRECT_ACCEPT 1
#else
#define BERTH_DIRECT_ACCEPT 0
#endif
