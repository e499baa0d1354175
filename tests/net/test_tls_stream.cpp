#include <berth/net/tls_stream.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <asio/redirect_error.hpp>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"
#include "net/support/test_certificate.hpp"

using namespace berth;
using namespace berth::test;

namespace {

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

/// What NowThenAnswer saw, read by the test thread once `finished`.
struct NowResults {
    std::mutex mutex;
    std::size_t greeting_written = 0;
    std::error_code greeting_error;
    std::error_code read_before_data;
    std::string read_text;
    std::error_code read_at_end;
    bool finished = false;
};

/// Greets and answers with read_some_now and write_some_now only, waiting with async_wait_readable:
/// the handler shape `berth serve` uses.
struct NowThenAnswer {
    std::shared_ptr<NowResults> results;

    asio::awaitable<void> operator()(Session& session) const {
        NowResults local;
        std::array<char, 64> buffer{};
        // The client sends nothing before it has the greeting, so this read must find nothing.
        session.stream().read_some_now(asio::buffer(buffer), local.read_before_data);
        const std::string_view ready = "ready\n";
        local.greeting_written = session.stream().write_some_now(asio::buffer(ready), local.greeting_error);

        // Bounded: a TLS record may come in parts (would_block until it is whole).
        for (int attempt = 0; attempt < 50 && local.read_text.size() < 4; ++attempt) {
            std::error_code ec;
            co_await session.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            const std::size_t n = session.stream().read_some_now(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) continue;
            if (ec) break;
            local.read_text.append(buffer.data(), n);
        }
        const std::string answer = "got " + local.read_text;
        std::error_code ignored;
        session.stream().write_some_now(asio::buffer(answer), ignored);

        for (int attempt = 0; attempt < 50; ++attempt) {
            std::error_code ec;
            co_await session.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                local.read_at_end = ec;
                break;
            }
            session.stream().read_some_now(asio::buffer(buffer), ec);
            if (ec != asio::error::would_block) {
                local.read_at_end = ec;
                break;
            }
        }
        std::lock_guard<std::mutex> lock(results->mutex);
        results->greeting_written = local.greeting_written;
        results->greeting_error = local.greeting_error;
        results->read_before_data = local.read_before_data;
        results->read_text = local.read_text;
        results->read_at_end = local.read_at_end;
        results->finished = true;
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

/// A client over TLS or in plaintext, with Asio's own TLS stream. Each step runs the client's I/O for
/// at most 5 s: a server that never answers fails a check instead of hanging the test.
class StepClient {
public:
    explicit StepClient(bool tls) : tls_(tls), context_(asio::ssl::context::tls_client), stream_(io_, context_) {
        context_.set_verify_mode(asio::ssl::verify_none);
    }

    bool connect(std::uint16_t port) {
        if (!step([&](auto done) {
                stream_.lowest_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, done);
            }))
            return false;
        return !tls_ || step([&](auto done) { stream_.async_handshake(asio::ssl::stream_base::client, done); });
    }
    std::string read_text(std::size_t n) {
        std::string text(n, '\0');
        const bool ok = step([&](auto done) {
            if (tls_) asio::async_read(stream_, asio::buffer(text), done);
            else asio::async_read(stream_.next_layer(), asio::buffer(text), done);
        });
        return ok ? text : std::string("(nothing within 5 s)");
    }
    bool write_text(std::string_view text) {
        return step([&](auto done) {
            if (tls_) asio::async_write(stream_, asio::buffer(text), done);
            else asio::async_write(stream_.next_layer(), asio::buffer(text), done);
        });
    }
    /// Sends close_notify over TLS (the server's is not waited for), then closes the socket.
    void close() {
        if (tls_) {
            stream_.async_shutdown([](std::error_code) {});
            io_.restart();
            io_.run_for(std::chrono::milliseconds(200));
        }
        std::error_code ignored;
        stream_.lowest_layer().close(ignored);
    }

private:
    template <class Start>
    bool step(Start start) {
        bool finished = false;
        std::error_code error;
        start([&](std::error_code ec, std::size_t = 0) {
            error = ec;
            finished = true;
        });
        io_.restart();
        io_.run_for(std::chrono::seconds(5));
        return finished && !error;
    }

    bool tls_;
    asio::io_context io_;
    asio::ssl::context context_;
    asio::ssl::stream<asio::ip::tcp::socket> stream_;
};

/// The listener "tls": implicit TLS, or (tls false) the same listener in plaintext.
ResolvedListener implicit_tls_listener(bool tls = true) {
    auto listener = make_listener("tls", {"127.0.0.1:0"});
    listener.use_tls = listener.tls_implicit = tls;
    listener.tls_timeout = Duration::from_milliseconds(5000);
    return listener;
}

}  // namespace

TEST_CASE("TlsStream carries megabytes both ways at once against Asio's own TLS client", "[net][tls]") {
    Policies<> policies;
    policies.tls = LibraryTls<>(localhost_certificate());
    ServerRunner server({implicit_tls_listener()}, RunnerOptions{}, policies);
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
            policies.tls = LibraryTls<>(localhost_certificate());
            ServerRunner server({implicit_tls_listener(tls)}, RunnerOptions{}, policies);
            server.bind();
            server.start(WaitThenAnswer{});
            const std::uint16_t port = server.local_address("tls")->port();

            StepClient client(tls);
            REQUIRE(client.connect(port));
            CHECK(client.read_text(6) == "ready\n");
            std::this_thread::sleep_for(100ms);  // the server is waiting, holding no read buffer
            CHECK(server.live_sessions() == 1);
            CHECK(client.write_text("ping"));
            CHECK(client.read_text(8) == "got ping");
        }
    }
}

TEST_CASE("read_some_now and write_some_now move what they can at once, over TLS and in plaintext", "[net][tls]") {
    for (const bool tls : {false, true}) {
        DYNAMIC_SECTION((tls ? "TLS" : "plaintext")) {
            Policies<> policies;
            policies.tls = LibraryTls<>(localhost_certificate());
            ServerRunner server({implicit_tls_listener(tls)}, RunnerOptions{}, policies);
            server.bind();
            auto results = std::make_shared<NowResults>();
            server.start(NowThenAnswer{results});
            const std::uint16_t port = server.local_address("tls")->port();

            StepClient client(tls);
            REQUIRE(client.connect(port));
            CHECK(client.read_text(6) == "ready\n");
            CHECK(client.write_text("ping"));
            CHECK(client.read_text(8) == "got ping");
            client.close();

            REQUIRE(eventually([&] {
                std::lock_guard<std::mutex> lock(results->mutex);
                return results->finished;
            }));
            std::lock_guard<std::mutex> lock(results->mutex);
            CHECK(results->greeting_written == 6);  // a fresh connection takes a short greeting whole
            CHECK(!results->greeting_error);
            CHECK(results->read_before_data == asio::error::would_block);
            CHECK(results->read_text == "ping");
            CHECK(results->read_at_end == asio::error::eof);  // TLS: the client's close_notify
        }
    }
}

TEST_CASE("read_some_now returns the bytes that came with a PROXY header without waiting", "[net][proxy]") {
    auto listener = make_listener("proxied", {"127.0.0.1:0"});
    listener.proxy_trusted_networks = {IpMask::parse("127.0.0.1").value()};
    struct FirstRead {
        std::shared_ptr<std::string> seen;
        std::shared_ptr<std::atomic<bool>> done;
        asio::awaitable<void> operator()(Session& session) const {
            std::array<char, 64> buffer{};
            std::error_code ec;
            const std::size_t n = session.stream().read_some_now(asio::buffer(buffer), ec);
            *seen = ec ? "error: " + ec.message() : std::string(buffer.data(), n);
            done->store(true);
            co_return;
        }
    };
    auto seen = std::make_shared<std::string>();
    auto done = std::make_shared<std::atomic<bool>>(false);
    ServerRunner server({listener}, RunnerOptions{});
    server.bind();
    server.start(FirstRead{seen, done});

    Client client;
    REQUIRE(client.connect(*server.local_address("proxied")));
    REQUIRE(client.send("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\nhello"));
    REQUIRE(eventually([&] { return done->load(); }));
    CHECK(*seen == "hello");
}
