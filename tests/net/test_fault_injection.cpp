// Released on every path (SPEC §5): a countdown fails the Nth step of a session's start, for every N
// until a connection gets through untouched, on a plain, a PROXY and an implicit-TLS listener. After
// each run the server must hold no session and no permit, and its own io_context must run out of work
// once async_shutdown completes. Run under ASan and TSan by the test command.
#include <berth/net.hpp>

#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/support/net_test_support.hpp"
#include "net/support/test_certificate.hpp"

using namespace berth;
using namespace berth::test;
using namespace std::chrono_literals;

namespace {

enum class Kind { plain, proxy, implicit_tls };

ResolvedListener listener_for(Kind kind) {
    auto listener = make_listener("faults", {"127.0.0.1:0"});
    listener.tls_timeout = Duration::from_milliseconds(5000);
    if (kind == Kind::proxy) listener.proxy_trusted_networks = {IpMask::parse("127.0.0.1").value()};
    if (kind == Kind::implicit_tls) {
        listener.use_tls = true;
        listener.tls_implicit = true;
    }
    return listener;
}

/// Greets, reads one line, says goodbye.
asio::awaitable<void> greet_once(Session& session) {
    co_await asio::async_write(session.stream(), asio::buffer(std::string_view("220 ready\r\n")), asio::use_awaitable);
    std::string line;
    co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line, 512), "\r\n", asio::use_awaitable);
    co_await asio::async_write(session.stream(), asio::buffer(std::string_view("221 bye\r\n")), asio::use_awaitable);
    co_await session.async_shutdown(asio::use_awaitable);
}

// g++ 12 and 14 take the frame's deallocation by Asio's awaitable_frame_base::operator delete for a
// mismatch with its allocation on this coroutine (a false positive: both are Asio's class-specific pair).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

/// One client conversation: sets `greeted` when it was greeted and said goodbye.
asio::awaitable<void> conversation(Kind kind, std::uint16_t port, bool& greeted) {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    if (kind == Kind::proxy)
        co_await asio::async_write(socket, asio::buffer(std::string_view("PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n")),
                                   asio::use_awaitable);
    std::string input;
    if (kind == Kind::implicit_tls) {
        asio::ssl::context context(asio::ssl::context::tls_client);
        asio::ssl::stream<asio::ip::tcp::socket&> tls(socket, context);
        co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_await asio::async_read_until(tls, asio::dynamic_buffer(input), "\r\n", asio::use_awaitable);
        co_await asio::async_write(tls, asio::buffer(std::string_view("QUIT\r\n")), asio::use_awaitable);
        co_await asio::async_read_until(tls, asio::dynamic_buffer(input), "221 bye\r\n", asio::use_awaitable);
    } else {
        co_await asio::async_read_until(socket, asio::dynamic_buffer(input), "\r\n", asio::use_awaitable);
        co_await asio::async_write(socket, asio::buffer(std::string_view("QUIT\r\n")), asio::use_awaitable);
        co_await asio::async_read_until(socket, asio::dynamic_buffer(input), "221 bye\r\n", asio::use_awaitable);
    }
    greeted = input == "220 ready\r\n221 bye\r\n";
}

/// One client conversation, every step within a deadline: true when it was greeted and said goodbye.
bool converse(Kind kind, std::uint16_t port) {
    asio::io_context io(1);
    bool greeted = false;
    asio::co_spawn(io, conversation(kind, port, greeted), asio::detached);  // a failure (the server closed) ends it early
    io.run_for(20s);
    return greeted;
}

struct Outcome {
    std::optional<SessionStep> failed_step;
    bool greeted = false;
};

/// A server on an io_context of the test's own, run by two threads (so the executor is not serial and
/// every session gets a strand), with the Nth step failed.
Outcome run_with_fault(Kind kind, std::size_t n) {
    auto faults = std::make_shared<FailCount>(n);
    Policies<> policies;
    if (kind == Kind::implicit_tls) policies.tls = LibraryTls<>(localhost_certificate());
    asio::io_context io;
    Server server(io.get_executor(), {listener_for(kind)}, {.serial_executor = false, .fail_count = faults}, policies);
    server.bind();
    server.async_run(greet_once, asio::detached);
    const std::uint16_t port = server.local_address("faults")->port();
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&io] { io.run(); });

    Outcome outcome;
    outcome.greeted = converse(kind, port);
    outcome.failed_step = faults->failed_step();
    INFO("N = " << n << ", failed step: " << (outcome.failed_step ? to_string(*outcome.failed_step) : "none"));
    CHECK(eventually([&] { return server.live_sessions() == 0; }, 10s));
    CHECK(server.connections("faults").live() == 0);

    // A shutdown with a grace period far longer than the test: the context must run out of work as
    // soon as the server is done, or the threads would not come back.
    std::promise<void> shut_down;
    server.async_shutdown(std::chrono::hours(1), [&shut_down] { shut_down.set_value(); });
    std::future<void> running = join_all(threads);
    CHECK(ran_out_of_work(running, io, 10s));
    CHECK(shut_down.get_future().wait_for(0s) == std::future_status::ready);
    CHECK(server.live_sessions() == 0);
    return outcome;
}

std::set<SessionStep> failed_steps_for_every_n(Kind kind) {
    std::set<SessionStep> failed;
    for (std::size_t n = 1; n <= 20; ++n) {
        const Outcome outcome = run_with_fault(kind, n);
        if (!outcome.failed_step) {
            CHECK(outcome.greeted);  // past the last step, the connection gets through untouched
            return failed;
        }
        CHECK_FALSE(outcome.greeted);
        failed.insert(*outcome.failed_step);
    }
    FAIL("the countdown never ran past the last step");
    return failed;
}

}  // namespace

TEST_CASE("a failure at any step of a plain session's start keeps no session and no permit", "[net][faults]") {
    CHECK(failed_steps_for_every_n(Kind::plain) ==
          std::set<SessionStep>{SessionStep::accept, SessionStep::socket_options, SessionStep::permit,
                                SessionStep::session_launch, SessionStep::handler_start});
}

TEST_CASE("a failure at any step of a PROXY session's start keeps no session and no permit", "[net][faults]") {
    CHECK(failed_steps_for_every_n(Kind::proxy) ==
          std::set<SessionStep>{SessionStep::accept, SessionStep::socket_options, SessionStep::session_launch,
                                SessionStep::proxy_read, SessionStep::permit, SessionStep::handler_start});
}

TEST_CASE("a failure at any step of an implicit-TLS session's start keeps no session and no permit",
          "[net][faults][tls]") {
    CHECK(failed_steps_for_every_n(Kind::implicit_tls) ==
          std::set<SessionStep>{SessionStep::accept, SessionStep::socket_options, SessionStep::permit,
                                SessionStep::session_launch, SessionStep::tls_handshake, SessionStep::handler_start});
}

TEST_CASE("a callback handler that drops its completion uncalled ends the session", "[net][faults]") {
    asio::io_context io;
    Server server(io.get_executor(), {make_listener("drop", {"127.0.0.1:0"})}, {.serial_executor = true});
    server.bind();
    std::atomic<int> calls{0};
    server.async_run([&calls](Session&, auto done) { ++calls; (void)done; }, asio::detached);  // `done` dies here
    const auto port = server.local_address("drop")->port();
    std::thread thread([&io] { io.run(); });

    Client client;
    REQUIRE(client.connect(addr("127.0.0.1:" + std::to_string(port))));
    CHECK(client.read_until_closed(10s));  // the session ended: the server closed the connection
    CHECK(eventually([&] { return server.live_sessions() == 0; }, 10s));
    CHECK(server.connections("drop").live() == 0);
    CHECK(calls == 1);
    CHECK(server.stats("drop").sessions_finished == 1);

    std::promise<void> shut_down;
    server.async_shutdown(1s, [&shut_down] { shut_down.set_value(); });
    CHECK(shut_down.get_future().wait_for(10s) == std::future_status::ready);
    thread.join();
}
