// The documented embedding as a benchmark server: the application's own io_context run by one thread,
// berth::Server on it with the public API only, and a coroutine session handler, as docs/acceptor.md
// shows them. It greets like the yardsticks and waits for the client to close, keeping no buffer while
// the connection is idle. One listener on 127.0.0.1 (a free port): plain, or implicit TLS 1.3 with a
// self-signed ECDSA P-256 certificate with --tls. Prints "listening on 127.0.0.1:PORT" as the
// yardsticks do; SIGINT or SIGTERM shuts down with async_shutdown. bench/side_by_side.sh loads it next
// to berth serve (whose handler is a hand-written callback) and the yardsticks.
#include <berth/berth.hpp>

#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string_view>

namespace {

constexpr std::string_view greeting = "220 berth example\r\n";

/// Reads and drops what has arrived, without waiting, through a buffer on the stack (not in the
/// coroutine's frame); asio::error::eof once the client has closed.
std::error_code drop_what_arrived(berth::Session& session) {
    std::array<char, 512> sink;
    for (;;) {
        std::error_code ec;
        session.stream().read_some_now(asio::buffer(sink), ec);
        if (ec == asio::error::would_block) return {};
        if (ec) return ec;
    }
}

/// The handler: the greeting, then wait for the client, keeping no buffer while it is idle. The
/// greeting goes out at once when the socket takes it (a fresh socket's send buffer is empty); only what
/// it does not take goes to async_write (docs/acceptor.md, Session).
asio::awaitable<void> greet_until_closed(berth::Session& session) {
    std::error_code ec;
    const std::size_t sent = session.stream().write_some_now(asio::buffer(greeting), ec);
    if (ec == asio::error::would_block) ec = {};
    if (!ec && sent < greeting.size())
        co_await asio::async_write(session.stream(), asio::buffer(greeting.substr(sent)),
                                   asio::redirect_error(asio::use_awaitable, ec));
    while (!ec) {
        co_await session.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) ec = drop_what_arrived(session);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const bool tls = argc > 1 && std::string_view(argv[1]) == "--tls";
    if (argc > 2 || (argc == 2 && !tls)) {
        std::fprintf(stderr, "usage: example_server [--tls]\n");
        return 2;
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    const berth::Resolution config = berth::load(tls ? R"(
        [server.listener.example]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.implicit = true
        socket.backlog = 4096
    )"
                                                     : R"(
        [server.listener.example]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.enable = false
        socket.backlog = 4096
    )");
    if (!config.valid()) return 1;
    berth::Policies<> policies;
    if (tls) policies.tls = berth::LibraryTls<>(berth::generate_self_signed_certificate({"localhost"}));

    asio::io_context io(1);
    berth::Server server(io.get_executor(), config.listeners, {.serial_executor = true}, policies);
    server.bind();
    server.async_run(greet_until_closed, asio::detached);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&server](std::error_code ec, int) {
        if (!ec) server.async_shutdown(std::chrono::seconds(1), asio::detached);
    });
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(server.local_address("example")->port()));
    std::fflush(stdout);
    io.run();
}
