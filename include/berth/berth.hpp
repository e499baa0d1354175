#ifndef BERTH_BERTH_HPP
#define BERTH_BERTH_HPP
// The one header to include: the listener model, plus the acceptor when the project links
// `berth::net` (which defines BERTH_WITH_NET and brings standalone Asio and a TLS library).

#include "berth/model.hpp"

#if defined(BERTH_WITH_NET) && BERTH_WITH_NET
#include "berth/net.hpp"
#endif

#endif  // BERTH_BERTH_HPP
