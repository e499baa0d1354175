// The default connection limit held for real: 8,192 idle connections on one listener (SPEC §1's
// default maxConnections), the limit exact, the 8,193rd handled as the overload policy says, and a
// freed place served again.
#include <berth/net/runner.hpp>

#include <asio/redirect_error.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

/// Greets, then waits for the client to close (or the server to stop).
struct GreetAndWait {
    asio::awaitable<void> operator()(Session& session) const {
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("hello\r\n")), asio::use_awaitable);
        char byte = 0;
        std::error_code ignored;
        co_await session.stream().async_read_some(asio::buffer(&byte, 1),
                                                  asio::redirect_error(asio::use_awaitable, ignored));
    }
};

/// Raises the soft descriptor limit for the test's life: server and clients share the process.
class DescriptorLimit {
public:
    explicit DescriptorLimit(rlim_t wanted) {
        ::getrlimit(RLIMIT_NOFILE, &original_);
        hard_ = original_.rlim_max;
        rlimit raised = original_;
        raised.rlim_cur = std::min(wanted, original_.rlim_max);
        ok_ = raised.rlim_cur >= wanted && ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
    }
    ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &original_); }
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] rlim_t hard() const noexcept { return hard_; }

private:
    rlimit original_{};
    rlim_t hard_ = 0;
    bool ok_ = false;
};

/// Opens `count` connections in batches (each batch fits the listen backlog) and waits for every
/// greeting. Returns the clients that were greeted; stops at the first batch that is not.
std::vector<Client> open_greeted(const SocketAddr& target, std::size_t count) {
    constexpr std::size_t batch = 256;
    std::vector<Client> clients;
    clients.reserve(count);
    while (clients.size() < count) {
        const std::size_t first = clients.size();
        const std::size_t end = std::min(count, first + batch);
        for (std::size_t i = first; i < end; ++i) {
            Client client;
            if (!client.connect(target)) return clients;
            clients.push_back(std::move(client));
        }
        for (std::size_t i = first; i < end; ++i)
            if (!clients[i].read_until("hello\r\n", 5s)) {
                clients.resize(i);
                return clients;
            }
    }
    return clients;
}

}  // namespace

TEST_CASE("8,192 idle connections on one listener: the limit is exact, the 8,193rd gets the busy line",
          "[net][limit][scale]") {
    constexpr std::size_t limit = 8192;
    // Server and client ends of 8,194 connections, plus the process's own descriptors.
    DescriptorLimit descriptors(2 * (limit + 2) + 256);
    INFO("the hard limit on open descriptors is " << descriptors.hard()
                                                  << "; this test needs 16,644 (raise it with ulimit -Hn)");
    REQUIRE(descriptors.ok());

    auto listener = make_listener("full", {"127.0.0.1:0"});
    listener.protocol = Protocol::smtp;
    REQUIRE(listener.max_connections == limit);  // the built-in default, not set here
    BasicServerRunner<asio::ip::tcp, Policies<>::with_overload<BusyReply>> server(
        {listener}, RunnerOptions{.threads = 1});
    server.bind();
    server.start(GreetAndWait{});
    const SocketAddr target = server.bound_endpoints().at(0).local;

    std::vector<Client> held = open_greeted(target, limit);
    REQUIRE(held.size() == limit);
    CHECK(server.connections("full").live() == limit);

    Client over;
    REQUIRE(over.connect(target));
    CHECK(over.read_until_closed(5s));
    CHECK(over.received() == "421 4.3.2 Too many connections\r\n");
    CHECK(server.stats("full").refused_over_limit == 1);
    CHECK(server.connections("full").live() == limit);
    CHECK(server.connections("full").peak() == limit);

    // A freed place is served again, and only one.
    held.back().close();
    held.pop_back();
    REQUIRE(eventually([&] { return server.connections("full").live() == limit - 1; }, 5s));
    Client again;
    REQUIRE(again.connect(target));
    CHECK(again.read_until("hello\r\n", 5s));
    Client refused_again;
    REQUIRE(refused_again.connect(target));
    CHECK(refused_again.read_until_closed(5s));
    CHECK(refused_again.received() == "421 4.3.2 Too many connections\r\n");
    CHECK(server.stats("full").refused_over_limit == 2);
    CHECK(server.connections("full").peak() == limit);

    held.clear();
    again.close();
    CHECK(eventually([&] { return server.connections("full").live() == 0; }, 10s));
    server.shutdown(2s);
    CHECK(server.live_sessions() == 0);
}
