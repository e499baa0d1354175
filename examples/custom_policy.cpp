// A custom policy bundle: backpressure is the other choice; here a protocol-aware busy reply and an
// event hook that counts refusals. maxConnections = 1: the second client gets SMTP's 421 line.
#include <berth/berth.hpp>

#include <atomic>
#include <iostream>

/// Counts refused connections; called from the I/O threads, so it only touches an atomic.
struct CountRefusals {
    std::atomic<int>* refused;
    void on_event(const berth::Event& e) const noexcept {
        if (e.kind == berth::EventKind::refused_over_limit) refused->fetch_add(1, std::memory_order_relaxed);
    }
};

using BusyPolicies = berth::Policies<>::with_overload<berth::BusyReply>::with_tls<berth::PlaintextOnly>::with_events<CountRefusals>;

asio::awaitable<void> hold_then_greet(berth::Session& session) {
    co_await asio::async_write(session.stream(), asio::buffer(std::string_view("220 ready\r\n")), asio::use_awaitable);
    char byte;
    co_await session.stream().async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);  // until the client closes
}

int main() {
    const berth::Resolution config = berth::load(R"(
        [server.listener.smtp]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        max-connections = 1
        tls.enable = false
    )");
    if (!config.valid()) return 1;

    std::atomic<int> refused{0};
    BusyPolicies policies;
    policies.events = CountRefusals{&refused};
    berth::BasicServerRunner<asio::ip::tcp, BusyPolicies> server(config.listeners, {}, policies);
    server.bind();
    server.start(hold_then_greet);
    const asio::ip::tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), server.local_address("smtp")->port()};

    asio::io_context client;
    asio::ip::tcp::socket first(client), second(client);
    std::string first_line, second_line;
    first.connect(endpoint);
    asio::read_until(first, asio::dynamic_buffer(first_line), "\r\n");  // holds the only slot
    second.connect(endpoint);
    asio::read_until(second, asio::dynamic_buffer(second_line), "\r\n");
    std::cout << "first:  " << first_line << "second: " << second_line;
    first.close();
    second.close();
    server.shutdown(std::chrono::seconds(1));
    std::cout << "refused: " << refused.load() << '\n';
}
