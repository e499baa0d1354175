// docs/acceptor.md's first example, compiled and run by CTest (tests/cli/test_doc_examples.cpp keeps the two equal).
#include <berth/berth.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <iostream>

asio::awaitable<void> greet(berth::Session& session) {
    const std::string line = "220 " + session.listener().name + " ready\r\n";
    co_await asio::async_write(session.stream(), asio::buffer(line), asio::use_awaitable);
}

// The application's own coroutine: a client of the listener, then berth's shutdown.
asio::awaitable<void> talk_then_stop(berth::Server& server) {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), server.local_address("smtp")->port()},
                                  asio::use_awaitable);
    std::string line;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
    std::cout << line;
    co_await server.async_shutdown(std::chrono::seconds(10), asio::use_awaitable);  // grace, then cancel the rest
}

int main() {
    const berth::Resolution config = berth::load(R"(
        [server.listener.smtp]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.enable = false
    )");
    if (!config.valid()) return 1;  // an invalid configuration binds nothing

    asio::io_context io(1);  // the application's own context, run by one thread: a serial executor
    berth::Server server(io.get_executor(), config.listeners, {.serial_executor = true});
    server.bind();  // all or nothing; throws berth::StartupError naming every failure
    server.async_run(greet, asio::detached);
    asio::co_spawn(io, talk_then_stop(server), asio::detached);
    io.run();  // returns once the shutdown is done and nothing else is left
    std::cout << "live sessions: " << server.live_sessions() << '\n';
}
