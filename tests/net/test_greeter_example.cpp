// The SMTP greeter shown in docs/acceptor.md, compiled and run: a greeter per protocol is one session
// handler. (Keep the two copies the same.)

#include <berth/net.hpp>

#include "support/catch.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "net/support/net_test_support.hpp"

using namespace berth::test;

// ---- the example, as in the documentation ----
asio::awaitable<void> smtp_greeter(berth::Session& session) {
    auto send = [&session](std::string_view text) {
        return asio::async_write(session.stream(), asio::buffer(text), asio::use_awaitable);
    };
    co_await send("220 mx.example.org ESMTP\r\n");
    std::string input;
    for (;;) {
        const std::size_t n = co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(input, 4096),
                                                              "\r\n", asio::use_awaitable);
        std::string verb = input.substr(0, std::min(input.find(' '), n - 2));
        input.erase(0, n);
        std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::toupper(c); });
        if (session.server_stopping()) {
            co_await send("421 4.3.2 Shutting down\r\n");
            co_return;
        }
        if (verb == "EHLO") {
            co_await send(session.starttls_available() ? "250-mx.example.org\r\n250 STARTTLS\r\n"
                                                       : "250 mx.example.org\r\n");
        } else if (verb == "STARTTLS" && session.starttls_available()) {
            co_await send("220 2.0.0 Ready to start TLS\r\n");
            input.clear();  // nothing the client sent before the handshake may count
            co_await session.async_starttls(asio::use_awaitable);
        } else if (verb == "QUIT") {
            co_await send("221 2.0.0 Bye\r\n");
            co_return;
        } else {
            co_await send("502 5.5.2 Command not implemented\r\n");
        }
    }
}
// ---- end of the example ----

TEST_CASE("the documentation's SMTP greeter, plaintext and with STARTTLS", "[net][greeter]") {
    auto plain = make_listener("smtp", {"127.0.0.1:0"});
    auto submission = make_listener("submission", {"127.0.0.1:0"});
    submission.use_tls = true;
    const berth::PemCertificate certificate = berth::generate_self_signed_certificate({"localhost"});
    berth::Policies<> policies;
    policies.tls = berth::LibraryTls<>(certificate);
    berth::ServerRunner server({plain, submission}, {}, policies);
    server.bind();
    server.start(smtp_greeter);

    Client client;
    REQUIRE(client.connect(*server.local_address("smtp")));
    REQUIRE(client.read_until("220 mx.example.org ESMTP\r\n"));
    REQUIRE(client.send("EHLO client.example\r\nNOOP\r\nQUIT\r\n"));
    CHECK(client.read_until_closed());
    CHECK(client.received() == "220 mx.example.org ESMTP\r\n250 mx.example.org\r\n"
                               "502 5.5.2 Command not implemented\r\n221 2.0.0 Bye\r\n");

    TempDir directory;
    const std::string ca = directory.write("ca.pem", certificate.chain_pem());
    ChildProcess s_client({"openssl", "s_client", "-connect",
                           "127.0.0.1:" + std::to_string(server.local_address("submission")->port()), "-starttls",
                           "smtp", "-CAfile", ca, "-verify_return_error", "-brief", "-nocommands"});
    REQUIRE(s_client.read_until("Verification: OK", 5s));
    s_client.write("QUIT\r\n");
    CHECK(s_client.read_until("221 2.0.0 Bye", 3s));
    server.shutdown(1s);
}
