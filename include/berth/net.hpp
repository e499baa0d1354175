#pragma once
// The network part of berth: the acceptor and the server that realize resolved listeners on standalone
// Asio with BoringSSL (or OpenSSL 3), on the caller's executors, and the runner that gives them threads. Needs the `berth::net` CMake target (Asio, a TLS library, threads).
// `berth/net/proxy_protocol.hpp` alone has no Asio or TLS dependency.

// What nearly every session handler uses: coroutines and Asio's composed reads and writes.
#include <asio/awaitable.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "berth/net/accept_errors.hpp"
#include "berth/net/accepted_socket.hpp"
#include "berth/net/acceptor.hpp"
#include "berth/net/certificate.hpp"
#include "berth/net/connection_limit.hpp"
#include "berth/net/endpoint.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/fault_injection.hpp"
#include "berth/net/overload.hpp"
#include "berth/net/policies.hpp"
#include "berth/net/pooled_allocator.hpp"
#include "berth/net/proxy_protocol.hpp"
#include "berth/net/proxy_reader.hpp"
#include "berth/net/runner.hpp"
#include "berth/net/server.hpp"
#include "berth/net/session.hpp"
#include "berth/net/session_handler.hpp"
#include "berth/net/session_stream.hpp"
#include "berth/net/socket_options.hpp"
#include "berth/net/tls.hpp"
#include "berth/net/tls_library.hpp"
