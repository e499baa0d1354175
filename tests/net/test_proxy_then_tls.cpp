// A PROXY header followed at once by the ClientHello, in one write, on an implicit-TLS listener: the
// bytes after the header are the start of the handshake and must reach it (SPEC §5 keeps them for the
// next layer). Found by `berth probe`; before the fix the handshake stalled until tlsTimeout.
#include <berth/net/runner.hpp>

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <asio/write.hpp>
#include "support/catch.hpp"

#include <chrono>
#include <memory>
#include <string>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

struct GreetOverTls {
    asio::awaitable<void> operator()(Session& session) const {
        const std::string line = "220 peer=" + session.peer().to_string() + " tls=" + std::string(session.tls_version()) + "\r\n";
        co_await asio::async_write(session.stream(), asio::buffer(line), asio::use_awaitable);
    }
};

/// Moves what the TLS client wrote into its memory BIO out to the socket.
bool flush(SSL* ssl, int fd, const std::string& prefix = {}) {
    std::string out = prefix;
    char chunk[4096];
    int n;
    while ((n = BIO_read(SSL_get_wbio(ssl), chunk, sizeof chunk)) > 0) out.append(chunk, static_cast<std::size_t>(n));
    return out.empty() || ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
}

}  // namespace

TEST_CASE("implicit TLS after a PROXY header sent in the same segment as the ClientHello", "[net][proxy-reader][tls]") {
    auto listener = make_listener("smtps", {"127.0.0.1:0"});
    listener.use_tls = true;
    listener.tls_implicit = true;
    listener.proxy_trusted_networks = {IpMask::parse("127.0.0.1").value()};
    listener.tls_timeout = Duration::from_milliseconds(3000);
    Policies<> policies;
    policies.tls = LibraryTls<>(generate_self_signed_certificate({"localhost"}));
    ServerRunner server({listener}, {}, policies);
    server.bind();
    server.start(GreetOverTls{});
    const auto port = server.local_address("smtps")->port();

    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
    SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl.get());
    SSL_set_tlsext_host_name(ssl.get(), "localhost");

    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);

    REQUIRE(SSL_do_handshake(ssl.get()) <= 0);  // writes the ClientHello into the memory BIO
    REQUIRE(flush(ssl.get(), fd, "PROXY TCP4 192.0.2.7 127.0.0.1 40000 465\r\n"));  // header + hello, one send

    std::string greeting;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);  // well under tlsTimeout
    while (std::chrono::steady_clock::now() < deadline && greeting.find("\r\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char chunk[4096];
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        BIO_write(SSL_get_rbio(ssl.get()), chunk, static_cast<int>(n));
        if (!SSL_is_init_finished(ssl.get())) SSL_do_handshake(ssl.get());
        REQUIRE(flush(ssl.get(), fd));
        if (SSL_is_init_finished(ssl.get())) {
            char plain[512];
            int got;
            while ((got = SSL_read(ssl.get(), plain, sizeof plain)) > 0) greeting.append(plain, static_cast<std::size_t>(got));
        }
    }
    ::close(fd);
    CHECK(SSL_is_init_finished(ssl.get()));
    CHECK(greeting.starts_with("220 peer=192.0.2.7:40000 tls=TLSv1."));
    server.shutdown(std::chrono::seconds(1));
}
