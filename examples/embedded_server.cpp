// An application that already runs Asio hosts berth on its own io_context. A periodic timer and an
// outbound connection to a loopback peer share the context with berth's listener; a coroutine shuts
// berth down with async_shutdown, and io.run() returns once nothing is left to do.
#include <berth/berth.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <string>

using namespace std::chrono_literals;
using Policies = berth::Policies<>::with_tls<berth::PlaintextOnly>;

asio::awaitable<void> greet(berth::Session& session) {
    const std::string line = "220 " + session.listener().name + " ready\r\n";
    co_await asio::async_write(session.stream(), asio::buffer(line), asio::use_awaitable);
}

// The application's own work: a heartbeat until its timer is cancelled.
asio::awaitable<void> heartbeat(asio::steady_timer& timer) {
    for (;;) {
        timer.expires_after(5ms);
        std::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
    }
    std::cout << "heartbeat: stopped\n";
}

// A stand-in for an upstream the application talks to: it says one line to whoever connects.
asio::awaitable<void> upstream_peer(asio::ip::tcp::acceptor& acceptor) {
    asio::ip::tcp::socket peer = co_await acceptor.async_accept(asio::use_awaitable);
    co_await asio::async_write(peer, asio::buffer(std::string_view("hello from upstream\r\n")), asio::use_awaitable);
}

asio::awaitable<std::string> read_line_from(asio::ip::tcp::endpoint endpoint) {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(endpoint, asio::use_awaitable);
    std::string line;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
    co_return line;
}

asio::awaitable<void> application(berth::BasicServer<asio::ip::tcp, asio::any_io_executor, Policies>& server,
                                  asio::ip::tcp::endpoint upstream, asio::steady_timer& heartbeat_timer) {
    const std::string from_upstream = co_await read_line_from(upstream);
    std::cout << "outbound: " << from_upstream;
    const asio::ip::tcp::endpoint berth_endpoint(asio::ip::make_address("127.0.0.1"),
                                                 server.local_address("smtp")->port());
    const std::string greeting = co_await read_line_from(berth_endpoint);
    std::cout << "berth: " << greeting;
    co_await server.async_shutdown(5s, asio::use_awaitable);
    std::cout << "berth: shut down, live sessions " << server.live_sessions() << '\n';
    heartbeat_timer.cancel();
}

int main() {
    const berth::Resolution config = berth::load(R"(
        [server.listener.smtp]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.enable = false
    )");
    if (!config.valid()) return 1;

    asio::io_context io(1);  // the application's context, run by this thread alone
    // One thread runs the context, so it is serial: sessions need no strand of their own.
    berth::BasicServer<asio::ip::tcp, asio::any_io_executor, Policies> server(io.get_executor(), config.listeners,
                                                                            {.serial_executor = true});
    server.bind();
    server.async_run(greet, [](std::error_code ec) { std::cout << "berth: run ended: " << ec.message() << '\n'; });

    asio::ip::tcp::acceptor upstream(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::steady_timer heartbeat_timer(io);
    asio::co_spawn(io, heartbeat(heartbeat_timer), asio::detached);
    asio::co_spawn(io, upstream_peer(upstream), asio::detached);
    asio::co_spawn(io, application(server, upstream.local_endpoint(), heartbeat_timer), asio::detached);

    io.run();
    std::cout << "io_context: out of work\n";
}
