#include <berth/net/runner.hpp>  // first: the header compiles on its own

#include "support/catch.hpp"

#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

/// A plain listening socket that holds a port (no SO_REUSEADDR, no SO_REUSEPORT).
class PortHolder {
public:
    PortHolder() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in);
        ::listen(fd_, 1);
        socklen_t length = sizeof in;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &length);
        port_ = ntohs(in.sin_port);
    }
    PortHolder(const PortHolder&) = delete;
    PortHolder& operator=(const PortHolder&) = delete;
    ~PortHolder() { ::close(fd_); }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

asio::awaitable<void> say_ok(Session& session) {
    co_await asio::async_write(session.stream(), asio::buffer(std::string_view("ok\r\n")), asio::use_awaitable);
}

const StartupFailure* failure_for(const std::vector<StartupFailure>& failures, std::string_view address) {
    for (const auto& failure : failures)
        if (failure.address && failure.address->to_string() == address) return &failure;
    return nullptr;
}

}  // namespace

TEST_CASE("port 0: the real port is reported and served", "[net][bind]") {
    ServerRunner server({make_listener("smtp", {"127.0.0.1:0", "[::1]:0"})});
    server.bind();
    const auto endpoints = server.bound_endpoints();
    REQUIRE(endpoints.size() == 2);
    for (const auto& endpoint : endpoints) {
        CHECK(endpoint.listener == "smtp");
        CHECK(endpoint.configured.port() == 0);
        CHECK(endpoint.local.port() != 0);
        CHECK(endpoint.local.address() == endpoint.configured.address());
        CHECK(own_listening_ports().count(endpoint.local.port()) == 1);
    }
    server.start(say_ok);
    for (const auto& endpoint : endpoints) {
        Client client;
        REQUIRE(client.connect(endpoint.local));
        CHECK(client.read_until("ok\r\n"));
    }
    server.shutdown(1s);
    CHECK(own_listening_ports().empty());
}

TEST_CASE("bind failures name every failed address, its key and the OS reason - nothing stays open", "[net][bind]") {
    PortHolder holder;
    const std::string taken = "127.0.0.1:" + std::to_string(holder.port());
    auto smtp = make_listener("smtp", {"127.0.0.1:0", taken});
    auto submission = make_listener("submission", {"[::1]:0", "192.0.2.1:2525"});  // not an address of this host
    smtp.socket_reuse_port = false;  // SO_REUSEPORT alone would still refuse here; keep the case plain

    const std::size_t sockets_before = open_socket_count();
    const auto listening_before = own_listening_ports();
    REQUIRE(listening_before.count(holder.port()) == 1);

    ServerRunner server({smtp, submission});
    try {
        server.bind();
        FAIL("bind() should have thrown");
    } catch (const StartupError& error) {
        CHECK(error.code() == NetError::startup_failed);
        REQUIRE(error.failures().size() == 2);
        const StartupFailure* in_use = failure_for(error.failures(), taken);
        REQUIRE(in_use);
        CHECK(in_use->listener == "smtp");
        CHECK(in_use->key == "server.listener.smtp.bind");
        CHECK(in_use->step == "bind");
        CHECK(in_use->error == std::errc::address_in_use);
        const StartupFailure* foreign = failure_for(error.failures(), "192.0.2.1:2525");
        REQUIRE(foreign);
        CHECK(foreign->key == "server.listener.submission.bind");
        CHECK(foreign->error == std::errc::address_not_available);
        const std::string message = error.what();
        CHECK(message.find(taken + " (server.listener.smtp.bind): bind: ") != std::string::npos);
        CHECK(message.find("192.0.2.1:2525 (server.listener.submission.bind): bind: ") != std::string::npos);
        CHECK(message.find(std::make_error_code(std::errc::address_in_use).message()) != std::string::npos);
    }
    // The sockets that did bind (127.0.0.1:0 and [::1]:0) were closed, never listened on.
    CHECK(open_socket_count() == sockets_before);
    CHECK(own_listening_ports() == listening_before);
    CHECK(server.bound_endpoints().empty());
}

TEST_CASE("the error_code overload reports the same failures without throwing", "[net][bind]") {
    PortHolder holder;
    ServerRunner server({make_listener("imap", {"127.0.0.1:" + std::to_string(holder.port())})});
    std::error_code ec;
    server.bind(ec);
    CHECK(ec == NetError::startup_failed);
    CHECK(ec.category().name() == std::string("berth.net"));
    REQUIRE(server.startup_failures().size() == 1);
    CHECK(server.startup_failures().front().key == "server.listener.imap.bind");
    CHECK(server.startup_failures().front().error == std::errc::address_in_use);

    std::error_code start_error;
    server.start(say_ok, start_error);
    CHECK(start_error == NetError::not_bound);
}

TEST_CASE("a listener built in code is named by its listener name when it has no provenance", "[net][bind]") {
    PortHolder holder;
    auto listener = make_listener("code", {"127.0.0.1:" + std::to_string(holder.port())});
    listener.provenance = {};
    ServerRunner server({listener});
    std::error_code ec;
    server.bind(ec);
    REQUIRE(server.startup_failures().size() == 1);
    CHECK(server.startup_failures().front().key == "listener \"code\"");
}

TEST_CASE("bind twice is refused - a failed bind can be retried", "[net][bind]") {
    auto holder = std::make_unique<PortHolder>();
    const std::uint16_t port = holder->port();
    auto listener = make_listener("pop3", {"127.0.0.1:" + std::to_string(port)});
    listener.socket_reuse_port = false;
    ServerRunner server({listener});
    std::error_code ec;
    server.bind(ec);
    REQUIRE(ec == NetError::startup_failed);
    holder.reset();  // the port is free now
    server.bind(ec);
    REQUIRE_FALSE(ec);
    CHECK(server.bound_endpoints().at(0).local.port() == port);
    server.bind(ec);
    CHECK(ec == NetError::already_started);
}

TEST_CASE("a TLS problem on one listener stops the whole start, and nothing listens", "[net][bind]") {
    auto plain = make_listener("plain", {"127.0.0.1:0"});
    auto secure = make_listener("secure", {"127.0.0.1:0"});
    secure.use_tls = true;  // the default TLS policy has no certificate
    secure.provenance[static_cast<std::size_t>(Field::use_tls)].path = "server.listener.secure.tls.enable";
    const auto listening_before = own_listening_ports();
    ServerRunner server({plain, secure});
    std::error_code ec;
    server.bind(ec);
    CHECK(ec == NetError::startup_failed);
    REQUIRE(server.startup_failures().size() == 1);
    const auto& failure = server.startup_failures().front();
    CHECK(failure.listener == "secure");
    CHECK_FALSE(failure.address);
    CHECK(failure.key == "server.listener.secure.tls.enable");
    CHECK(failure.error == NetError::no_certificate);
    CHECK(own_listening_ports() == listening_before);
}

TEST_CASE("several threads with SO_REUSEPORT shard one socket per thread on the same port", "[net][bind]") {
    ServerRunner server({make_listener("smtp", {"127.0.0.1:0"})}, RunnerOptions{.threads = 2});
    server.bind();
    CHECK(server.sharded());
    const auto sockets = server.listening_sockets();
    REQUIRE(sockets.size() == 2);
    CHECK(sockets[0].local == sockets[1].local);
    CHECK(sockets[0].shard != sockets[1].shard);
    CHECK(server.bound_endpoints().size() == 1);
    server.start(say_ok);
    for (int i = 0; i < 8; ++i) {
        Client client;
        REQUIRE(client.connect(sockets[0].local));
        CHECK(client.read_until("ok\r\n"));
    }
    server.shutdown(1s);

    auto no_reuse = make_listener("smtp", {"127.0.0.1:0"});
    no_reuse.socket_reuse_port = false;
    ServerRunner shared({no_reuse}, RunnerOptions{.threads = 2});
    shared.bind();
    CHECK_FALSE(shared.sharded());
    CHECK(shared.listening_sockets().size() == 1);
}
