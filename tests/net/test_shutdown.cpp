// Two-phase shutdown: listening sockets closed at once, sessions finish within the grace period, the
// rest are cancelled, and no permit outlives the server's shutdown.

#include <berth/net/runner.hpp>

#include <asio/redirect_error.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

asio::awaitable<void> write_line(Session& session, std::string_view line) {
    co_await asio::async_write(session.stream(), asio::buffer(line), asio::use_awaitable);
}

asio::awaitable<void> sleep_for(Session& session, std::chrono::milliseconds duration) {
    asio::steady_timer timer(session.get_executor());
    timer.expires_after(duration);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("in-flight sessions finish within the grace period - listening sockets close at once", "[net][shutdown]") {
    ServerRunner server({make_listener("smtp", {"127.0.0.1:0"})});
    server.bind();
    server.start([](Session& session) -> asio::awaitable<void> {
        co_await write_line(session, "start\r\n");
        co_await sleep_for(session, 400ms);
        co_await write_line(session, session.server_stopping() ? "done stopping\r\n" : "done\r\n");
    });
    const SocketAddr endpoint = *server.local_address("smtp");
    Client client;
    REQUIRE(client.connect(endpoint));
    REQUIRE(client.read_until("start\r\n"));

    server.request_stop();
    CHECK(eventually([&] { return own_listening_ports().empty(); }, 3s));
    Client late;
    CHECK_FALSE(late.connect(endpoint, std::nullopt, 500ms));
    CHECK(client.received() == "start\r\n");  // the session is still running

    const auto start = Clock::now();
    server.shutdown(5s);
    CHECK(Clock::now() - start < 2s);  // it waited for the session, not for the whole grace period
    CHECK(client.read_until_closed(2s));
    CHECK(client.received() == "start\r\ndone stopping\r\n");
    CHECK(server.stats("smtp").sessions_finished == 1);
    CHECK(server.connections("smtp").live() == 0);
    CHECK(server.live_sessions() == 0);
}

TEST_CASE("after the grace period the remaining sessions are cancelled", "[net][shutdown]") {
    Mailbox<std::string> outcomes;
    auto listener = make_listener("imap", {"127.0.0.1:0"});
    ServerRunner server({listener}, RunnerOptions{.threads = 2});
    server.bind();
    server.start([&outcomes](Session& session) -> asio::awaitable<void> {
        co_await write_line(session, "* OK\r\n");
        std::string line;
        try {
            if (session.listener().name == "imap") {
                // Waits for a command that never comes.
                co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line), "\r\n",
                                                asio::use_awaitable);
            }
            outcomes.push("completed");
        } catch (const std::system_error& e) {
            outcomes.push(e.code() == asio::error::operation_aborted ? "cancelled" : e.code().message());
            throw;
        }
    });
    std::vector<Client> clients(3);
    for (auto& client : clients) {
        REQUIRE(client.connect(*server.local_address("imap")));
        REQUIRE(client.read_until("* OK\r\n"));
    }
    CHECK(server.connections("imap").live() == 3);

    const auto start = Clock::now();
    server.shutdown(300ms);
    const auto elapsed = Clock::now() - start;
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 2s);
    for (int i = 0; i < 3; ++i) CHECK(outcomes.pop(1s) == std::optional<std::string>("cancelled"));
    for (auto& client : clients) CHECK(client.read_until_closed(1s));
    CHECK(server.connections("imap").live() == 0);
    CHECK(server.live_sessions() == 0);
    CHECK(server.stats("imap").session_errors == 0);  // a cancellation at shutdown is not an error
}

TEST_CASE("a session that ignores cancellation is destroyed after cancel_wait - its permit comes back",
          "[net][shutdown]") {
    ServerRunner server({make_listener("pop3", {"127.0.0.1:0"})}, RunnerOptions{.cancel_wait = 200ms});
    server.bind();
    server.start([](Session& session) -> asio::awaitable<void> {
        co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
        co_await write_line(session, "+OK\r\n");
        asio::steady_timer timer(session.get_executor());
        timer.expires_after(30s);
        std::error_code ignored;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    });
    Client client;
    REQUIRE(client.connect(*server.local_address("pop3")));
    REQUIRE(client.read_until("+OK\r\n"));
    CHECK(server.connections("pop3").live() == 1);
    const auto start = Clock::now();
    server.shutdown(100ms);
    CHECK(Clock::now() - start < 2s);
    CHECK(server.connections("pop3").live() == 0);
    CHECK(server.live_sessions() == 0);
    CHECK(client.read_until_closed(1s));
}

TEST_CASE("a handler's exception is reported and the server keeps serving", "[net][shutdown]") {
    struct Errors {
        std::shared_ptr<Mailbox<std::string>> details = std::make_shared<Mailbox<std::string>>();
        void on_event(const Event& event) const {
            if (event.kind == EventKind::session_error) details->push(std::string(event.detail));
        }
    };
    std::atomic<int> calls{0};
    BasicServerRunner<asio::ip::tcp, Policies<>::with_events<Errors>> server(
        {make_listener("http", {"127.0.0.1:0"})});
    server.bind();
    server.start([&calls](Session& session) -> asio::awaitable<void> {
        if (calls++ == 0) throw std::runtime_error("handler failed");
        co_await write_line(session, "HTTP/1.1 204 No Content\r\n\r\n");
    });
    Client first;
    REQUIRE(first.connect(*server.local_address("http")));
    CHECK(first.read_until_closed(2s));
    CHECK(server.policies().events.details->pop() == std::optional<std::string>("handler failed"));
    Client second;
    REQUIRE(second.connect(*server.local_address("http")));
    CHECK(second.read_until("204 No Content"));
    server.shutdown(1s);
    CHECK(server.stats("http").session_errors == 1);
    CHECK(server.connections("http").live() == 0);
}

TEST_CASE("a handler can ask the server to stop - shutdown() itself is refused on a server thread", "[net][shutdown]") {
    Mailbox<std::string> seen;
    ServerRunner server({make_listener("sieve", {"127.0.0.1:0"})});
    server.bind();
    server.start([&server, &seen](Session& session) -> asio::awaitable<void> {
        try {
            server.shutdown(0ms);
            seen.push("shutdown returned");
        } catch (const std::logic_error&) {
            seen.push("shutdown refused");
        }
        server.request_stop();
        co_await write_line(session, "OK\r\n");
    });
    Client client;
    REQUIRE(client.connect(*server.local_address("sieve")));
    CHECK(client.read_until("OK\r\n"));
    CHECK(seen.pop() == std::optional<std::string>("shutdown refused"));
    CHECK(eventually([&] { return own_listening_ports().empty(); }, 3s));
    server.shutdown(1s);
    CHECK_FALSE(server.running());
}

namespace {

std::size_t thread_count() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}

}  // namespace

TEST_CASE("run_until_signal serves on the calling thread alone and shuts down gracefully on its signal",
          "[net][shutdown]") {
    ServerRunner server({make_listener("smtp", {"127.0.0.1:0"})}, RunnerOptions{.cancel_wait = 500ms});
    server.bind();
    const SocketAddr address = *server.local_address("smtp");

    std::atomic<std::size_t> threads_while_serving{0};
    std::atomic<bool> client_started{false}, greeted{false}, closed_by_server{false};
    std::thread client_thread([&] {
        client_started = true;
        Client client;
        if (!client.connect(address) || !client.read_until("220 ready\r\n")) return;
        greeted = true;
        threads_while_serving = thread_count();
        ::kill(::getpid(), SIGUSR1);
        closed_by_server = client.read_until_closed(5s);  // the idle session is cancelled after the grace
    });

    // Counted once the client's thread exists (a sanitizer's runtime may add a thread of its own with it).
    CHECK(eventually([&] { return client_started.load(); }));
    const std::size_t threads_before = thread_count();
    std::atomic<int> announced{0};
    const auto start = Clock::now();
    const int stopped_by = server.run_until_signal(
        [](Session& session) -> asio::awaitable<void> {
            co_await write_line(session, "220 ready\r\n");
            std::string line;
            co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
        },
        {SIGUSR1}, 200ms, [&announced](int signal) { announced = signal; });
    const auto elapsed = Clock::now() - start;
    client_thread.join();

    CHECK(stopped_by == SIGUSR1);
    CHECK(announced == SIGUSR1);
    CHECK(greeted);
    CHECK(threads_while_serving == threads_before);  // the server started no thread
    CHECK(closed_by_server);
    CHECK(elapsed >= 200ms);  // the session had its grace period
    CHECK(elapsed < 5s);
    CHECK(server.live_sessions() == 0);
    CHECK_FALSE(server.running());
    Client late;
    CHECK_FALSE(late.connect(address, std::nullopt, 500ms));  // the listening socket is closed
}

TEST_CASE("shutdown() from another thread ends run_until_signal, which returns 0", "[net][shutdown]") {
    ServerRunner server({make_listener("pop3", {"127.0.0.1:0"})}, RunnerOptions{.threads = 2});
    server.bind();
    const SocketAddr address = *server.local_address("pop3");
    std::thread stopper([&] {
        Client client;
        if (client.connect(address)) client.read_until("+OK\r\n");
        server.shutdown(100ms);
    });
    const int stopped_by = server.run_until_signal(
        [](Session& session) -> asio::awaitable<void> { co_await write_line(session, "+OK\r\n"); }, {SIGUSR2},
        1s);
    stopper.join();
    CHECK(stopped_by == 0);
    CHECK_FALSE(server.running());
    CHECK(server.live_sessions() == 0);
}
