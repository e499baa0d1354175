// The first read wait of a socket accepted since the reactor last polled: it completes exactly when
// Asio's own wait would (data before the wait, during it, after it; close and cancel), and it makes no
// EPOLL_CTL_MOD, which Asio's wait would. The second part is checked by counting the process's
// epoll_ctl calls: this file defines epoll_ctl, which the executable's own calls then reach, and which
// passes each call on to the kernel. ThreadSanitizer models epoll through its own epoll_ctl, so under
// TSan the counter is left out and only the behaviour is checked.

#include <berth/net/accepted_socket.hpp>
#include <berth/net/runner.hpp>

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include "support/catch.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "net/support/net_test_support.hpp"

#if defined(__SANITIZE_THREAD__)
#define BERTH_TEST_COUNTS_EPOLL_CTL 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BERTH_TEST_COUNTS_EPOLL_CTL 0
#endif
#endif
#ifndef BERTH_TEST_COUNTS_EPOLL_CTL
#define BERTH_TEST_COUNTS_EPOLL_CTL 1
#endif

// Without Asio's internals (the default build; BERTH_ASIO_INTERNALS opts in) every wait is Asio's own: nothing
// to test here.
#if BERTH_DIRECT_ACCEPT

namespace {

/// EPOLL_CTL_MOD calls per descriptor number, since the process started (a number is reused once its
/// descriptor is closed: tests count from a baseline taken when their socket is made).
std::array<std::atomic<int>, 1 << 16> modifications_by_descriptor{};

int modifications(int descriptor) {
    if (descriptor < 0 || static_cast<std::size_t>(descriptor) >= modifications_by_descriptor.size()) return -1;
    return modifications_by_descriptor[static_cast<std::size_t>(descriptor)].load();
}

}  // namespace

#if BERTH_TEST_COUNTS_EPOLL_CTL
extern "C" int epoll_ctl(int epoll, int operation, int descriptor, struct epoll_event* event) {
    if (operation == EPOLL_CTL_MOD && descriptor >= 0 &&
        static_cast<std::size_t>(descriptor) < modifications_by_descriptor.size())
        modifications_by_descriptor[static_cast<std::size_t>(descriptor)].fetch_add(1);
    return static_cast<int>(::syscall(SYS_epoll_ctl, epoll, operation, descriptor, event));
}
#endif

using namespace berth;
using namespace berth::test;

namespace {

using Socket = Session::socket_type;

/// A listening socket and one accepted connection on a context that one thread runs, with the
/// accept made inside a span as the acceptor makes it.
struct OneThreadAccept {
    asio::io_context context{1};
    asio::ip::tcp::acceptor listening{context, {asio::ip::make_address("127.0.0.1"), 0}};
    Socket socket{context.get_executor()};
    Client client;
    int baseline = 0;  // the accepted descriptor number's EPOLL_CTL_MOD count when it was accepted

    /// EPOLL_CTL_MOD calls on the accepted socket since it was accepted.
    int socket_modifications() { return modifications(socket.native_handle()) - baseline; }

    OneThreadAccept() {
        listening.non_blocking(true);
        const auto port = listening.local_endpoint().port();
        REQUIRE(client.connect(addr("127.0.0.1:" + std::to_string(port))));
    }

    asio::detail::reactor* reactor() { return &asio::use_service<asio::detail::reactor>(context); }

    /// Accepts inside an open span, then runs `then` while the span is still open.
    template <class Then>
    void accept_in_span(Then then) {
        asio::post(context, [this, then]() mutable {
            const detail::UnpolledSpan span(reactor());
            REQUIRE(span.number() != 0);
            asio::ip::tcp::endpoint peer;
            std::error_code ec;
            // The connection is in the backlog once connect() returned; accept4 finds it at once.
            ec = socket.accept_from(listening, peer, span.number());
            REQUIRE_FALSE(ec);
            baseline = modifications(socket.native_handle());
            then();
        });
    }

    std::optional<std::error_code> waited;  // the result of the read wait wait_readable() started

    /// Starts a read wait on the accepted socket; its result goes to `waited` (reset it first to wait
    /// again).
    void wait_readable() {
        socket.async_wait(Socket::wait_read, [this](std::error_code ec) { waited = ec; });
    }

    /// Runs the context until the read wait completed, for at most 5 s.
    bool run_until_waited() {
        return run_until([this] { return waited.has_value(); });
    }

    /// Runs the context for `duration` (the reactor polls many times meanwhile).
    void run_for(std::chrono::milliseconds duration) {
        context.restart();
        context.run_for(duration);
    }

    /// Runs the context until `done` holds, for at most 5 s.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = Clock::now() + 5s;
        while (!done() && Clock::now() < deadline) {
            context.restart();
            context.run_for(20ms);
        }
        return done();
    }
};

}  // namespace

TEST_CASE("a span is open only for one reactor at a time, nested spans share it", "[net][accept][unpolled]") {
    asio::io_context first{1};
    asio::io_context second{1};
    auto* first_reactor = &asio::use_service<asio::detail::reactor>(first);
    auto* second_reactor = &asio::use_service<asio::detail::reactor>(second);
    std::uint64_t outer_number = 0;
    {
        const detail::UnpolledSpan none(nullptr);
        CHECK(none.number() == 0);
        const detail::UnpolledSpan outer(first_reactor);
        outer_number = outer.number();
        REQUIRE(outer_number != 0);
        CHECK(detail::UnpolledSpan::open_reactor(outer_number) == first_reactor);
        {
            const detail::UnpolledSpan nested(first_reactor);
            CHECK(nested.number() == outer_number);
            const detail::UnpolledSpan other(second_reactor);
            CHECK(other.number() == 0);
        }
        CHECK(detail::UnpolledSpan::open_reactor(outer_number) == first_reactor);  // the nested one left it open
    }
    CHECK(detail::UnpolledSpan::open_reactor(outer_number) == nullptr);
    CHECK(detail::UnpolledSpan::open_reactor(0) == nullptr);
    const detail::UnpolledSpan later(first_reactor);
    CHECK(later.number() != outer_number);  // a socket of the closed span never matches a later one
}

TEST_CASE("a context's concurrency hint decides whether it is run by one thread", "[net][accept][unpolled]") {
    asio::io_context one{1};
    asio::io_context unsafe_io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    asio::io_context two{2};
    asio::io_context unspecified;
    CHECK(detail::UnpolledSpan::single_threaded(one));
    CHECK(detail::UnpolledSpan::single_threaded(unsafe_io));
    CHECK_FALSE(detail::UnpolledSpan::single_threaded(two));
    CHECK_FALSE(detail::UnpolledSpan::single_threaded(unspecified));
}

TEST_CASE("the first read wait after an accept completes when data comes and does not re-arm",
          "[net][accept][unpolled]") {
    OneThreadAccept setup;
    int modifications_at_wait = -1;
    setup.accept_in_span([&] {
        setup.wait_readable();
        modifications_at_wait = setup.socket_modifications();
    });
    // Nothing to read yet: the wait must still be pending after the reactor has polled a few times.
    setup.run_for(100ms);
    CHECK_FALSE(setup.waited.has_value());
    REQUIRE(setup.client.send("x"));
    REQUIRE(setup.run_until_waited());
    CHECK_FALSE(*setup.waited);
#if BERTH_TEST_COUNTS_EPOLL_CTL
    CHECK(modifications_at_wait == 0);
    CHECK(setup.socket_modifications() == 0);

    // A wait made later, from another handler, is Asio's own: it re-arms.
    char byte = 0;
    CHECK(setup.socket.read_some(asio::buffer(&byte, 1)) == 1);
    setup.waited.reset();
    asio::post(setup.context, [&] {
        setup.wait_readable();
    });
    REQUIRE(setup.client.send("y"));
    REQUIRE(setup.run_until_waited());
    CHECK_FALSE(*setup.waited);
    CHECK(setup.socket_modifications() == 1);
#endif
}

TEST_CASE("the first read wait completes at once for data that came before the accept",
          "[net][accept][unpolled]") {
    // The registration's first edge reports what is already there, so the wait needs no re-arming.
    OneThreadAccept setup;
    REQUIRE(setup.client.send("early"));
    setup.accept_in_span([&] { setup.wait_readable(); });
    REQUIRE(setup.run_until_waited());
    CHECK_FALSE(*setup.waited);
    char bytes[8] = {};
    CHECK(setup.socket.read_some(asio::buffer(bytes)) == 5);
}

TEST_CASE("the first read wait completes for data that came between the accept and the wait",
          "[net][accept][unpolled]") {
    OneThreadAccept setup;
    setup.accept_in_span([&] {
        REQUIRE(setup.client.send("between"));
        // Let the bytes reach the accepted socket before the wait starts.
        REQUIRE(eventually([&] { return setup.socket.available() == 7; }));
        setup.wait_readable();
    });
    REQUIRE(setup.run_until_waited());
    CHECK_FALSE(*setup.waited);
}

TEST_CASE("the first read wait completes when the client closes", "[net][accept][unpolled]") {
    OneThreadAccept setup;
    setup.accept_in_span([&] { setup.wait_readable(); });
    setup.run_for(50ms);
    CHECK_FALSE(setup.waited.has_value());
    setup.client.close();
    REQUIRE(setup.run_until_waited());
    CHECK_FALSE(*setup.waited);
    char byte = 0;
    std::error_code ec;
    CHECK(setup.socket.read_some(asio::buffer(&byte, 1), ec) == 0);
    CHECK(ec == asio::error::eof);
}

TEST_CASE("a pending first read wait ends with operation_aborted on cancel and on close",
          "[net][accept][unpolled]") {
    for (const bool close : {false, true}) {
        OneThreadAccept setup;
            setup.accept_in_span([&] { setup.wait_readable(); });
        setup.run_for(50ms);
        REQUIRE_FALSE(setup.waited.has_value());
        asio::post(setup.context, [&] {
            if (close) setup.socket.close();
            else setup.socket.cancel();
        });
        REQUIRE(setup.run_until_waited());
        CHECK(*setup.waited == asio::error::operation_aborted);
    }
}

TEST_CASE("a write wait after an accept is Asio's own", "[net][accept][unpolled]") {
    OneThreadAccept setup;
    std::optional<std::error_code> writable;
    setup.accept_in_span([&] {
        setup.socket.async_wait(Socket::wait_write, [&](std::error_code ec) { writable = ec; });
    });
    REQUIRE(setup.run_until([&] { return writable.has_value(); }));
    CHECK_FALSE(*writable);
#if BERTH_TEST_COUNTS_EPOLL_CTL
    CHECK(setup.socket_modifications() == 1);  // Asio adds EPOLLOUT to the registration
#endif
}

namespace {

/// Greets, waits for the client's line (recording the socket's EPOLL_CTL_MOD count when the wait
/// completes), answers with that count, and ends.
struct GreetWaitAnswer {
    void operator()(Session& session, auto done) const {
        const int baseline = modifications(session.socket().native_handle());
        std::error_code ec;
        const std::string_view greeting = "220 hi\r\n";
        session.stream().write_some_now(asio::buffer(greeting), ec);
        if (ec) return done(ec);
        session.async_wait_readable([&session, baseline, done = std::move(done)](std::error_code error) mutable {
            if (error) return done(error);
            const int seen = modifications(session.socket().native_handle()) - baseline;
            // The answer lives in the completion handler until the write is over.
            auto answer = std::make_shared<const std::string>("mods " + std::to_string(seen) + "\r\n");
            asio::async_write(session.stream(), asio::buffer(*answer),
                              [answer, done = std::move(done)](std::error_code ec2, std::size_t) mutable {
                                  done(ec2);
                              });
        });
    }
};

/// The number of EPOLL_CTL_MOD calls the server saw on the session's socket, or -1 when the exchange
/// failed.
int modifications_seen_by_server(const SocketAddr& address) {
    Client client;
    if (!client.connect(address) || !client.read_until("220 hi\r\n") || !client.send("HELO x\r\n")) return -1;
    if (!client.read_until_closed()) return -1;
    const std::string& received = client.received();
    const auto at = received.find("mods ");
    if (at == std::string::npos) return -1;
    return std::stoi(received.substr(at + 5));
}

/// Serves five sessions of GreetWaitAnswer on `listener` and returns what each saw (-1: the exchange failed).
std::vector<int> modifications_in_five_sessions(const ResolvedListener& listener, const RunnerOptions& options) {
    ServerRunner server({listener}, options);
    server.bind();
    server.start(GreetWaitAnswer{});
    const SocketAddr address = *server.local_address(listener.name);
    std::vector<int> seen;
    for (int round = 0; round < 5; ++round) seen.push_back(modifications_seen_by_server(address));
    return seen;
}

}  // namespace

TEST_CASE("a one-thread server's sessions make their first read wait without re-arming",
          "[net][accept][unpolled]") {
    for (const int seen : modifications_in_five_sessions(make_listener("one", {"127.0.0.1:0"}), RunnerOptions{})) {
        REQUIRE(seen >= 0);
        if (BERTH_TEST_COUNTS_EPOLL_CTL) CHECK(seen == 0);
    }
}

TEST_CASE("sessions on a context several threads run make Asio's wait", "[net][accept][unpolled]") {
    auto listener = make_listener("shared", {"127.0.0.1:0"});
    listener.socket_reuse_port = false;  // two threads share one context instead of one each
    for (const int seen : modifications_in_five_sessions(listener, RunnerOptions{.threads = 2})) {
        REQUIRE(seen >= 0);
        if (BERTH_TEST_COUNTS_EPOLL_CTL) CHECK(seen >= 1);  // re-armed: another thread may have polled
    }
}

#endif  // BERTH_DIRECT_ACCEPT
