#include <berth/net/connection_limit.hpp>  // first: the header compiles on its own

#include <berth/net/overload.hpp>
#include <berth/net/runner.hpp>

#include "support/catch.hpp"

#include <asio/write.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

TEST_CASE("ConnectionCounter never overshoots under concurrent takers", "[net][limit]") {
    ConnectionCounter counter(5);
    std::atomic<bool> overshoot{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20000; ++i) {
                if (counter.try_take()) {
                    if (counter.live() > counter.limit()) overshoot = true;
                    counter.give_back();
                }
            }
        });
    for (auto& thread : threads) thread.join();
    CHECK_FALSE(overshoot);
    CHECK(counter.peak() <= 5);
    CHECK(counter.peak() >= 1);
    CHECK(counter.live() == 0);
}

TEST_CASE("Permit is move-only and gives its place back exactly once", "[net][limit]") {
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<Permit>);
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<Permit>);
    ConnectionCounter counter(2);
    {
        auto first = PerListenerLimit{}.try_acquire(counter);
        REQUIRE(first);
        CHECK(counter.live() == 1);
        Permit moved = std::move(*first);
        CHECK_FALSE(first->held());
        CHECK(counter.live() == 1);
        auto second = PerListenerLimit{}.try_acquire(counter);
        REQUIRE(second);
        CHECK_FALSE(PerListenerLimit{}.try_acquire(counter));  // full
        moved = std::move(*second);                            // the old place is given back
        CHECK(counter.live() == 1);
    }
    CHECK(counter.live() == 0);
}

TEST_CASE("a global cap limits all listeners together and never keeps a listener's place on refusal", "[net][limit]") {
    const GlobalConnectionCap cap(2);
    ConnectionCounter smtp(5), imap(5);
    auto a = cap.try_acquire(smtp);
    auto b = cap.try_acquire(imap);
    REQUIRE(a);
    REQUIRE(b);
    CHECK_FALSE(cap.try_acquire(imap));
    CHECK(imap.live() == 1);  // the refused attempt gave the listener's place back
    CHECK(cap.global().live() == 2);
    a.reset();
    CHECK(cap.global().live() == 1);
    CHECK(smtp.live() == 0);
    CHECK(cap.try_acquire(imap));
}

TEST_CASE("busy replies per protocol", "[net][limit]") {
    CHECK(busy_reply_text(Protocol::smtp) == "421 4.3.2 Too many connections\r\n");
    CHECK(busy_reply_text(Protocol::lmtp) == "421 4.3.2 Too many connections\r\n");
    CHECK(busy_reply_text(Protocol::imap) == "* BYE Too many connections\r\n");
    CHECK(busy_reply_text(Protocol::pop3) == "-ERR Too many connections\r\n");
    CHECK(busy_reply_text(Protocol::manage_sieve) == "BYE \"Too many connections\"\r\n");
    CHECK(busy_reply_text(Protocol::http) ==
          "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    auto implicit = make_listener("smtps", {"127.0.0.1:0"});
    implicit.use_tls = implicit.tls_implicit = true;
    CHECK(BusyReply{}.busy_reply(implicit).empty());  // a TLS client cannot read a plaintext line
    CHECK(CloseWhenFull{}.busy_reply(implicit).empty());
}

namespace {

/// Live sessions as the handler sees them.
struct Gauge {
    std::atomic<int> live{0};
    std::atomic<int> peak{0};
    std::atomic<bool> release{false};
};

/// Greets, then holds the session until the test releases it (or 5 s pass).
struct HoldingHandler {
    Gauge* gauge;
    asio::awaitable<void> operator()(Session& session) const {
        const int now = ++gauge->live;
        for (int peak = gauge->peak.load(); now > peak && !gauge->peak.compare_exchange_weak(peak, now);) {
        }
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("hello\r\n")), asio::use_awaitable);
        asio::steady_timer timer(session.get_executor());
        for (int i = 0; i < 1000 && !gauge->release.load(); ++i) {
            timer.expires_after(5ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
        --gauge->live;
    }
};

enum class Expect { closed, busy_line, wait };

/// 3N clients at once against maxConnections = N, on two addresses of one listener, with two threads:
/// sharded (one io_context and socket per thread, SO_REUSEPORT) or shared (one io_context, strands).
template <class PolicyBundle>
void storm(Expect expect, bool sharded) {
    constexpr int limit = 4;
    constexpr int clients = 3 * limit;
    auto listener = make_listener("storm", {"127.0.0.1:0", "[::1]:0"});  // both addresses share one counter
    listener.max_connections = limit;
    listener.protocol = Protocol::smtp;
    listener.socket_reuse_port = sharded;
    Gauge gauge;
    BasicServerRunner<asio::ip::tcp, PolicyBundle> server({listener}, RunnerOptions{.threads = 2});
    server.bind();
    REQUIRE(server.sharded() == sharded);
    server.start(HoldingHandler{&gauge});
    const auto endpoints = server.bound_endpoints();

    std::vector<std::string> received(clients);
    std::atomic<int> finished{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i)
        threads.emplace_back([&, i] {
            Client client;
            if (client.connect(endpoints[static_cast<std::size_t>(i) % endpoints.size()].local))
                client.read_until_closed(10s);
            received[static_cast<std::size_t>(i)] = client.received();
            ++finished;
        });

    CHECK(eventually([&] { return gauge.live == limit; }));
    if (expect == Expect::wait) {
        // Backpressure: the others wait in the backlog, nothing is refused.
        std::this_thread::sleep_for(200ms);
        CHECK(finished == 0);
        CHECK(gauge.live == limit);
    } else {
        CHECK(eventually([&] { return finished == clients - limit; }, 10s));
    }
    gauge.release = true;
    for (auto& thread : threads) thread.join();

    int served = 0, busy = 0, closed = 0;
    for (const auto& text : received) {
        if (text == "hello\r\n") ++served;
        else if (text == "421 4.3.2 Too many connections\r\n") ++busy;
        else if (text.empty()) ++closed;
    }
    CHECK(gauge.peak <= limit);
    CHECK(server.connections("storm").peak() <= static_cast<unsigned>(limit));
    switch (expect) {
    case Expect::closed:
        CHECK(served + closed == clients);
        CHECK(closed >= clients - limit);
        break;
    case Expect::busy_line:
        CHECK(served + busy == clients);
        CHECK(busy >= clients - limit);
        break;
    case Expect::wait:
        CHECK(served == clients);
        CHECK(server.stats("storm").refused_over_limit == 0);
        break;
    }
    if (expect != Expect::wait) CHECK(server.stats("storm").refused_over_limit == static_cast<std::uint64_t>(clients - served));
    CHECK(eventually([&] { return server.connections("storm").live() == 0; }));
    server.shutdown(2s);
    CHECK(server.connections("storm").live() == 0);
    CHECK(server.live_sessions() == 0);
}

}  // namespace

TEST_CASE("storm over the limit: close at once, nothing written", "[net][limit]") {
    SECTION("sharded") { storm<Policies<>>(Expect::closed, true); }
    SECTION("shared") { storm<Policies<>>(Expect::closed, false); }
}

TEST_CASE("storm over the limit: protocol busy line, then close", "[net][limit]") {
    SECTION("sharded") { storm<Policies<>::with_overload<BusyReply>>(Expect::busy_line, true); }
    SECTION("shared") { storm<Policies<>::with_overload<BusyReply>>(Expect::busy_line, false); }
}

TEST_CASE("storm over the limit: backpressure holds connections in the backlog", "[net][limit]") {
    SECTION("sharded") { storm<Policies<>::with_overload<Backpressure>>(Expect::wait, true); }
    SECTION("shared") { storm<Policies<>::with_overload<Backpressure>>(Expect::wait, false); }
}

TEST_CASE("a global cap over two listeners, with backpressure", "[net][limit]") {
    auto a = make_listener("a", {"127.0.0.1:0"});
    auto b = make_listener("b", {"127.0.0.1:0"});
    using Bundle = Policies<>::with_connection_limit<GlobalConnectionCap>::with_overload<Backpressure>;
    Bundle policies{.connection_limit = GlobalConnectionCap(2)};
    Gauge gauge;
    BasicServerRunner<asio::ip::tcp, Bundle> server({a, b}, RunnerOptions{.threads = 2}, policies);
    server.bind();
    server.start(HoldingHandler{&gauge});
    std::vector<std::thread> threads;
    std::atomic<int> served{0};
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&, i] {
            Client client;
            if (client.connect(*server.local_address(i % 2 ? "a" : "b")) && client.read_until_closed(10s) &&
                client.received() == "hello\r\n")
                ++served;
        });
    CHECK(eventually([&] { return gauge.live == 2; }));
    std::this_thread::sleep_for(100ms);
    CHECK(gauge.live == 2);
    gauge.release = true;
    for (auto& thread : threads) thread.join();
    CHECK(served == 6);
    CHECK(gauge.peak == 2);
    CHECK(server.policies().connection_limit.global().peak() == 2);
    server.shutdown(1s);
    CHECK(server.policies().connection_limit.global().live() == 0);
}

TEST_CASE("a client that saw its connection closed finds the permit free when it connects again at once",
          "[net][limit]") {
    // The permit is given back before the socket closes, so a reconnect right after the close is never
    // refused because of the connection it replaces.
    auto listener = make_listener("one", {"127.0.0.1:0"});
    listener.max_connections = 1;
    ServerRunner server({listener});
    server.bind();
    server.start([](Session& session, auto done) {
        asio::async_write(session.stream(), asio::buffer(std::string_view("220 once\r\n")),
                          [done = std::move(done)](std::error_code ec, std::size_t) mutable { done(ec); });
    });
    const SocketAddr address = *server.local_address("one");
    int greeted = 0;
    for (int round = 0; round < 30; ++round) {
        Client client;
        REQUIRE(client.connect(address));
        if (client.read_until("220 once\r\n")) ++greeted;
        CHECK(client.read_until_closed());
    }
    CHECK(greeted == 30);
    CHECK(server.stats("one").refused_over_limit == 0);
}
