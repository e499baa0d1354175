#include <berth/net/tls_stream.hpp>  // first: the header compiles on its own

#include <berth/net/server.hpp>

#include <asio/redirect_error.hpp>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

const PemCertificate& certificate() {
    static const PemCertificate pem = generate_self_signed_certificate({"localhost"});
    return pem;
}

/// Echoes everything until the client closes, through whatever the session's stream is.
struct Echo {
    asio::awaitable<void> operator()(Session& session) const {
        std::array<char, 16384> buffer{};
        for (;;) {
            std::error_code ec;
            const std::size_t n = co_await session.stream().async_read_some(
                asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            co_await asio::async_write(session.stream(), asio::buffer(buffer.data(), n), asio::use_awaitable);
        }
    }
};

/// Waits until the client has sent something, then answers with how the wait ended.
struct WaitThenAnswer {
    asio::awaitable<void> operator()(Session& session) const {
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("ready\n")), asio::use_awaitable);
        co_await session.async_wait_readable(asio::use_awaitable);
        std::array<char, 64> buffer{};
        const std::size_t n = co_await session.stream().async_read_some(asio::buffer(buffer), asio::use_awaitable);
        const std::string answer = "got " + std::string(buffer.data(), n);
        co_await asio::async_write(session.stream(), asio::buffer(answer), asio::use_awaitable);
    }
};

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    std::uint32_t state = 12345;
    for (auto& byte : bytes) {
        state = state * 1664525u + 1013904223u;
        byte = static_cast<std::uint8_t>(state >> 24);
    }
    return bytes;
}

ResolvedListener implicit_tls_listener() {
    auto listener = make_listener("tls", {"127.0.0.1:0"});
    listener.use_tls = listener.tls_implicit = true;
    listener.tls_timeout = Duration::from_milliseconds(5000);
    return listener;
}

}  // namespace

TEST_CASE("TlsStream carries megabytes both ways at once against Asio's own TLS client", "[net][tls]") {
    Policies<> policies;
    policies.tls = LibraryTls<>(certificate());
    Server server({implicit_tls_listener()}, ServerOptions{}, policies);
    server.bind();
    server.start(Echo{});
    const std::uint16_t port = server.local_address("tls")->port();

    // Larger than the socket buffers on both sides, so the server's writes meet a full socket (the
    // library asks to wait for writability) while its reads keep arriving.
    const std::vector<std::uint8_t> sent = pseudo_random_bytes(4 * 1024 * 1024);
    std::vector<std::uint8_t> received(sent.size());

    asio::io_context io;
    asio::ssl::context client_context(asio::ssl::context::tls_client);
    client_context.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<asio::ip::tcp::socket> client(io, client_context);
    std::error_code connect_error, handshake_error, write_error, read_error;
    std::size_t written = 0, read = 0;
    client.lowest_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](std::error_code ec) {
        connect_error = ec;
        if (ec) return;
        client.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec2) {
            handshake_error = ec2;
            if (ec2) return;
            asio::async_write(client, asio::buffer(sent), [&](std::error_code ec3, std::size_t n) {
                write_error = ec3;
                written = n;
            });
            asio::async_read(client, asio::buffer(received), [&](std::error_code ec3, std::size_t n) {
                read_error = ec3;
                read = n;
            });
        });
    });
    io.run_for(std::chrono::seconds(60));  // bounded: a stall fails the checks below instead of hanging

    CHECK_FALSE(connect_error);
    CHECK_FALSE(handshake_error);
    CHECK_FALSE(write_error);
    CHECK_FALSE(read_error);
    CHECK(written == sent.size());
    REQUIRE(read == sent.size());
    CHECK(received == sent);
    CHECK(std::string(SSL_get_version(client.native_handle())) == "TLSv1.3");
}

TEST_CASE("async_wait_readable waits for the client over TLS and in plaintext", "[net][tls]") {
    for (const bool tls : {false, true}) {
        DYNAMIC_SECTION((tls ? "TLS" : "plaintext")) {
            Policies<> policies;
            policies.tls = LibraryTls<>(certificate());
            auto listener = implicit_tls_listener();
            listener.use_tls = listener.tls_implicit = tls;
            Server server({listener}, ServerOptions{}, policies);
            server.bind();
            server.start(WaitThenAnswer{});
            const std::uint16_t port = server.local_address("tls")->port();

            asio::io_context io;
            asio::ssl::context client_context(asio::ssl::context::tls_client);
            client_context.set_verify_mode(asio::ssl::verify_none);
            asio::ssl::stream<asio::ip::tcp::socket> client(io, client_context);
            // Each step runs the client's I/O for at most 5 s: a server that never answers fails a
            // check instead of hanging the test.
            auto run_step = [&](auto start) {
                bool finished = false;
                std::error_code error;
                start([&](std::error_code ec, std::size_t = 0) {
                    error = ec;
                    finished = true;
                });
                io.restart();
                io.run_for(std::chrono::seconds(5));
                return finished && !error;
            };
            REQUIRE(run_step([&](auto done) {
                client.lowest_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, done);
            }));
            if (tls) REQUIRE(run_step([&](auto done) { client.async_handshake(asio::ssl::stream_base::client, done); }));
            auto read_text = [&](std::size_t n) {
                std::string text(n, '\0');
                const bool ok = run_step([&](auto done) {
                    if (tls) asio::async_read(client, asio::buffer(text), done);
                    else asio::async_read(client.next_layer(), asio::buffer(text), done);
                });
                return ok ? text : std::string("(nothing within 5 s)");
            };
            auto write_text = [&](std::string_view text) {
                return run_step([&](auto done) {
                    if (tls) asio::async_write(client, asio::buffer(text), done);
                    else asio::async_write(client.next_layer(), asio::buffer(text), done);
                });
            };

            CHECK(read_text(6) == "ready\n");
            std::this_thread::sleep_for(100ms);  // the server is waiting, holding no read buffer
            CHECK(server.live_sessions() == 1);
            CHECK(write_text("ping"));
            CHECK(read_text(8) == "got ping");
        }
    }
}
