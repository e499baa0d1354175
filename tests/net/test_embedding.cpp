// The acceptor and the server on executors the test owns: a thread_pool, a strand, an io_context per
// shard. Completion tokens of every kind (a callback, use_future), calls from the caller's thread and
// from a session handler, errors of a misused lifecycle, and a handle destroyed while it runs.
#include <berth/net.hpp>

#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>

#include "support/catch.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/support/net_test_support.hpp"

// See test_fault_injection.cpp: g++ misreads Asio's frame allocation pair on some coroutines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace berth;
using namespace berth::test;
using namespace std::chrono_literals;

namespace {

asio::awaitable<void> greet(Session& session) {
    const std::string line = "220 " + session.listener().name + "\r\n";
    co_await asio::async_write(session.stream(), asio::buffer(line), asio::use_awaitable);
}

/// Connects, reads the greeting; true when it is the listener's.
bool greeted_by(std::uint16_t port, const std::string& name) {
    Client client;
    if (!client.connect(addr("127.0.0.1:" + std::to_string(port)))) return false;
    return client.read_until("\r\n", 10s) && client.received() == "220 " + name + "\r\n";
}

/// Waits for a future, at most `timeout`: true when it is ready.
template <class T>
bool ready_within(std::future<T>& future, std::chrono::seconds timeout = 10s) {
    return future.wait_for(timeout) == std::future_status::ready;
}

}  // namespace

TEST_CASE("an acceptor on a thread_pool: a callback for async_run, use_future for async_shutdown", "[net][embedding]") {
    asio::thread_pool pool(2);
    Acceptor acceptor(pool.get_executor(), make_listener("pool", {"127.0.0.1:0"}));
    acceptor.bind();
    CHECK(acceptor.bound());
    std::promise<std::error_code> run_result;
    acceptor.async_run(greet, [&run_result](std::error_code ec) { run_result.set_value(ec); });
    CHECK(acceptor.running());
    const auto port = acceptor.local_address()->port();
    for (int i = 0; i < 4; ++i) CHECK(greeted_by(port, "pool"));
    CHECK(eventually([&] { return acceptor.live_sessions() == 0; }, 10s));
    CHECK(acceptor.stats().sessions_finished == 4);

    std::future<void> shut_down = acceptor.async_shutdown(1s, asio::use_future);
    REQUIRE(ready_within(shut_down));
    auto run_future = run_result.get_future();
    REQUIRE(ready_within(run_future));
    CHECK(!run_future.get());
    CHECK_FALSE(acceptor.running());
    CHECK(acceptor.connections().live() == 0);
    Client late;
    CHECK_FALSE(late.connect(addr("127.0.0.1:" + std::to_string(port)), std::nullopt, 2000ms));  // closed
    pool.join();
}

TEST_CASE("async_run before bind, and twice, completes with the lifecycle's error", "[net][embedding]") {
    asio::io_context io(1);
    Server server(io.get_executor(), {make_listener("twice", {"127.0.0.1:0"})}, {.serial_executor = true});
    std::optional<std::error_code> before_bind, second;
    server.async_run(greet, [&](std::error_code ec) { before_bind = ec; });
    io.run_for(5s);  // the completion is posted, never inline; nothing else keeps the context busy
    REQUIRE(before_bind);
    CHECK(*before_bind == NetError::not_bound);

    io.restart();
    server.bind();
    server.async_run(greet, asio::detached);
    server.async_run(greet, [&](std::error_code ec) { second = ec; });
    bool shut_down = false;
    asio::post(io, [&] { server.async_shutdown(0ms, [&] { shut_down = true; }); });
    io.run_for(10s);
    REQUIRE(second);
    CHECK(*second == NetError::already_started);
    CHECK(shut_down);
}

TEST_CASE("a server on a strand, shut down from inside a session handler", "[net][embedding]") {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    std::optional<BasicServer<asio::ip::tcp, asio::any_io_executor>> server;
    server.emplace(asio::any_io_executor(strand), std::vector<ResolvedListener>{make_listener("inside", {"127.0.0.1:0"})},
                   ServerOptions{.serial_executor = true});
    server->bind();
    std::atomic<bool> shut_down{false};
    server->async_run(
        [&](Session& session) -> asio::awaitable<void> {
            co_await asio::async_write(session.stream(), asio::buffer(std::string_view("220 bye\r\n")),
                                       asio::use_awaitable);
            // From the session's own executor: the shutdown waits for this very session to end.
            server->async_shutdown(5s, [&] { shut_down = true; });
        },
        asio::detached);
    const auto port = server->local_address("inside")->port();
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });
    Client client;
    REQUIRE(client.connect(addr("127.0.0.1:" + std::to_string(port))));
    CHECK(client.read_until("220 bye\r\n", 10s));
    CHECK(client.read_until_closed(10s));
    std::future<void> running = join_all(threads);
    CHECK(ran_out_of_work(running, io, 10s));
    CHECK(shut_down);
    CHECK(server->live_sessions() == 0);
}

TEST_CASE("two shards: a socket per shard for a reuse-port listener, one for a listener without", "[net][embedding]") {
    asio::io_context first(1), second(1);
    auto shared = make_listener("shared", {"127.0.0.1:0"});
    shared.socket_reuse_port = true;
    auto single = make_listener("single", {"127.0.0.1:0"});
    single.socket_reuse_port = false;
    Server server(std::vector<asio::any_io_executor>{first.get_executor(), second.get_executor()}, {shared, single},
                  {.serial_executor = true});
    server.bind();
    std::size_t shared_sockets = 0, single_sockets = 0;
    for (const auto& socket : server.listening_sockets()) (socket.listener == "shared" ? shared_sockets : single_sockets)++;
    CHECK(shared_sockets == 2);
    CHECK(single_sockets == 1);
    server.async_run(greet, asio::detached);
    std::thread one([&first] { first.run(); }), two([&second] { second.run(); });
    for (int i = 0; i < 8; ++i) CHECK(greeted_by(server.local_address("shared")->port(), "shared"));
    CHECK(greeted_by(server.local_address("single")->port(), "single"));
    std::future<void> shut_down = server.async_shutdown(1s, asio::use_future);
    CHECK(ready_within(shut_down));
    one.join();
    two.join();
    CHECK(server.stats("shared").sessions_finished == 8);
    CHECK(server.live_sessions() == 0);
}

TEST_CASE("a server destroyed while it runs cancels its sessions and leaves the context with no work",
          "[net][embedding]") {
    asio::io_context io(1);
    std::atomic<bool> ended{false};
    std::uint16_t port = 0;
    std::future<void> running;
    {
        Server server(io.get_executor(), {make_listener("dropped", {"127.0.0.1:0"})}, {.serial_executor = true});
        server.bind();
        port = server.local_address("dropped")->port();
        server.async_run(
            [&ended](Session& session) -> asio::awaitable<void> {
                // Set however the coroutine ends: by the timer's cancellation, or by a cancellation that
                // came before the wait began (the next co_await then throws).
                struct MarkEnded {
                    std::atomic<bool>& flag;
                    ~MarkEnded() { flag = true; }
                } mark{ended};
                co_await asio::async_write(session.stream(), asio::buffer(std::string_view("220 wait\r\n")),
                                           asio::use_awaitable);
                asio::steady_timer forever(session.get_executor(), std::chrono::hours(1));
                co_await forever.async_wait(asio::use_awaitable);
            },
            asio::detached);
        running = std::async(std::launch::async, [&io] { io.run(); });
        Client client;
        REQUIRE(client.connect(addr("127.0.0.1:" + std::to_string(port))));
        CHECK(client.read_until("220 wait\r\n", 10s));
    }  // the handle goes while the session waits on its timer, with the context running
    CHECK(ran_out_of_work(running, io, 10s));
    CHECK(ended);  // the terminal cancellation reached the coroutine through the session's slot, long before the hour
    Client late;
    CHECK_FALSE(late.connect(addr("127.0.0.1:" + std::to_string(port)), std::nullopt, 2000ms));
}
