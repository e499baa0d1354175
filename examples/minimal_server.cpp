// The smallest embedding: one include, a configuration string, a handler coroutine. It serves one
// plain SMTP listener on a free loopback port, talks to it once as a client, and shuts down.
#include <berth/berth.hpp>

#include <iostream>

asio::awaitable<void> hello(berth::Session& session) {
    const std::string greeting = "220 " + session.listener().name + " ready, " + session.peer().address().to_string() + "\r\n";
    co_await asio::async_write(session.stream(), asio::buffer(greeting), asio::use_awaitable);
}

int main() {
    const berth::Resolution config = berth::load(R"(
        [server.listener.smtp]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.enable = false
    )");
    if (!config.valid()) return 1;

    berth::BasicServerRunner<asio::ip::tcp, berth::Policies<>::with_tls<berth::PlaintextOnly>> server(
        config.listeners);
    server.bind();
    server.start(hello);

    // A client, to show it works: connect to the port the OS chose and read the greeting.
    asio::io_context client;
    asio::ip::tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), server.local_address("smtp")->port()});
    std::string line;
    asio::read_until(socket, asio::dynamic_buffer(line), "\r\n");
    std::cout << line;
    server.shutdown(std::chrono::seconds(1));
    std::cout << "live connections after shutdown: " << server.connections("smtp").live() << '\n';
}
