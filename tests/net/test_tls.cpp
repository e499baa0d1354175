#include <berth/net/tls.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <asio/redirect_error.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"
#include "net/support/test_certificate.hpp"

using namespace berth;
using namespace berth::test;

namespace {

struct Events {
    std::shared_ptr<Mailbox<EventKind>> kinds = std::make_shared<Mailbox<EventKind>>();
    void on_event(const Event& event) const {
        if (event.kind != EventKind::accepted) kinds->push(event.kind);
    }
};
using TlsPolicies = Policies<>::with_events<Events>;
using TlsServer = BasicServerRunner<asio::ip::tcp, TlsPolicies>;

TlsPolicies tls_policies() {
    TlsPolicies policies;
    policies.tls = LibraryTls<>(localhost_certificate());
    return policies;
}

ResolvedListener tls_listener(std::string name, bool implicit) {
    auto listener = make_listener(std::move(name), {"127.0.0.1:0"});
    listener.use_tls = true;
    listener.tls_implicit = implicit;
    listener.tls_timeout = Duration::from_milliseconds(2000);
    return listener;
}

/// Greets with what TLS was negotiated, then echoes one line.
struct TlsHello {
    asio::awaitable<void> operator()(Session& session) const {
        const std::string hello = "hello " + std::string(session.tls_version()) + " " +
                                  std::string(session.tls_cipher()) + " starttls=" +
                                  (session.starttls_available() ? "yes" : "no") + "\r\n";
        co_await asio::async_write(session.stream(), asio::buffer(hello), asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line), "\n", asio::use_awaitable);
        co_await asio::async_write(session.stream(), asio::buffer("echo " + line), asio::use_awaitable);
    }
};

/// Just enough SMTP for `openssl s_client -starttls smtp`: 220, EHLO (STARTTLS when offered),
/// STARTTLS, QUIT. It notes what it saw in `log`.
struct TinySmtp {
    Mailbox<std::string>* log;
    asio::awaitable<void> operator()(Session& session) const {
        auto reply = [&session](std::string text) -> asio::awaitable<void> {
            co_await asio::async_write(session.stream(), asio::buffer(text), asio::use_awaitable);
        };
        co_await reply("220 localhost ESMTP berth-test\r\n");
        std::string buffer;
        for (;;) {
            const std::size_t n = co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(buffer), "\n",
                                                                  asio::use_awaitable);
            std::string command = buffer.substr(0, std::min<std::size_t>(n, 8));
            buffer.erase(0, n);
            std::transform(command.begin(), command.end(), command.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            if (command.starts_with("EHLO")) {
                log->push(std::string("EHLO tls=") + (session.tls_active() ? "yes" : "no"));
                co_await reply(std::string("250-localhost\r\n") +
                               (session.starttls_available() ? "250-STARTTLS\r\n" : "") + "250 8BITMIME\r\n");
            } else if (command.starts_with("STARTTLS")) {
                if (!session.starttls_available()) {
                    co_await reply("454 4.7.0 TLS not available\r\n");
                    continue;
                }
                co_await reply("220 2.0.0 Ready to start TLS\r\n");
                buffer.clear();  // plaintext sent after STARTTLS must not be read as if it were protected
                co_await session.async_starttls(asio::use_awaitable);
                log->push("TLS " + std::string(session.tls_version()));
            } else if (command.starts_with("QUIT")) {
                co_await reply("221 2.0.0 Bye\r\n");
                co_return;
            } else {
                co_await reply("500 5.5.1 Unknown command\r\n");
            }
        }
    }
};

struct CertificateFile {
    TempDir directory;
    std::string path = directory.write("cert.pem", localhost_certificate().chain_pem());
};

std::unique_ptr<ChildProcess> s_client(std::uint16_t port, const std::string& ca_file, std::vector<std::string> extra) {
    std::vector<std::string> arguments{"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                       "-servername", "localhost", "-CAfile", ca_file, "-verify_return_error",
                                       "-verify_hostname", "localhost", "-brief", "-nocommands"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(arguments);
}

/// Runs s_client, expecting the handshake to succeed; returns its output up to the server's hello.
std::string handshake_output(std::uint16_t port, const std::string& ca_file, std::vector<std::string> extra) {
    auto client = s_client(port, ca_file, std::move(extra));
    const bool greeted = client->read_until("hello ", 5s) && client->read_until("\r\n", 2s);
    client->write("bye\r\n");
    client->read_until("echo bye", 2s);
    client->close_stdin();
    client->wait(3s);
    if (!greeted) return "FAILED: " + client->output();
    return client->output();
}

/// Runs s_client, expecting the handshake to fail; true when it did (non-zero exit, no hello).
bool handshake_refused(std::uint16_t port, const std::string& ca_file, std::vector<std::string> extra) {
    auto client = s_client(port, ca_file, std::move(extra));
    const auto status = client->wait(5s);
    INFO(client->output());
    return status && *status != 0 && client->output().find("hello ") == std::string::npos;
}

}  // namespace

TEST_CASE("the TLS library is the one the build chose", "[net][tls]") {
    CHECK_FALSE(check_tls_library());
#if defined(BERTH_TLS_BORINGSSL) && BERTH_TLS_BORINGSSL
    CHECK(tls_backend_name == "BoringSSL");
    CHECK(tls_library_version() == "BoringSSL");
#else
    CHECK(tls_backend_name == "OpenSSL");
    CHECK(tls_library_version().starts_with("OpenSSL 3."));
#endif
}

TEST_CASE("certificates: generated, loaded from PEM files, refused when wrong", "[net][tls]") {
    const PemCertificate& generated = localhost_certificate();
    CHECK(generated.chain_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    CHECK(generated.key_pem().find("PRIVATE KEY-----") != std::string::npos);

    TempDir directory;
    const auto chain = directory.write("chain.pem", generated.chain_pem());
    const auto key = directory.write("key.pem", generated.key_pem());
    const PemCertificate loaded = PemCertificate::from_files(chain, key);
    CHECK(loaded.chain_pem() == generated.chain_pem());
    std::error_code ec;
    PemCertificate::from_files(directory.path() + "/missing.pem", key, ec);
    CHECK(ec);

    const auto listener = tls_listener("tls", true);
    asio::ssl::context context(asio::ssl::context::tls_server);
    loaded.install(context, listener, ec);
    CHECK_FALSE(ec);

    asio::ssl::context mismatched(asio::ssl::context::tls_server);
    const PemCertificate other = generate_self_signed_certificate({"other.example"});
    PemCertificate(generated.chain_pem(), other.key_pem()).install(mismatched, listener, ec);
    CHECK(ec);
    PemCertificate{}.install(mismatched, listener, ec);
    CHECK(ec == NetError::no_certificate);
}

TEST_CASE("implicit TLS with openssl s_client", "[net][tls]") {
    TlsServer server({tls_listener("smtps", true)}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    CertificateFile ca;
    const std::string output = handshake_output(server.local_address("smtps")->port(), ca.path, {});
    INFO(output);
    CHECK(output.find("Verification: OK") != std::string::npos);
    CHECK(output.find("Protocol version: TLSv1.3") != std::string::npos);
    CHECK(output.find("hello TLSv1.3 ") != std::string::npos);
    CHECK(output.find(" starttls=no") != std::string::npos);  // never on an implicit-TLS listener
    CHECK(output.find("echo bye") != std::string::npos);
}

TEST_CASE("STARTTLS with openssl s_client -starttls smtp", "[net][tls]") {
    Mailbox<std::string> log;
    TlsServer server({tls_listener("submission", false)}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TinySmtp{&log});
    CertificateFile ca;
    auto client = s_client(server.local_address("submission")->port(), ca.path, {"-starttls", "smtp"});
    REQUIRE(client->read_until("Verification: OK", 5s));
    CHECK(log.pop() == std::optional<std::string>("EHLO tls=no"));
    CHECK(log.pop() == std::optional<std::string>("TLS TLSv1.3"));
    client->write("EHLO after\r\n");
    CHECK(log.pop() == std::optional<std::string>("EHLO tls=yes"));
    CHECK(client->read_until("250 8BITMIME", 3s));
    client->write("QUIT\r\n");
    CHECK(client->read_until("221 2.0.0 Bye", 3s));
    client->close_stdin();
    CHECK(client->wait(3s));
    INFO(client->output());
    // Once TLS is on, STARTTLS is no longer offered.
    const std::string after_tls = client->output().substr(client->output().find("Verification: OK"));
    CHECK(after_tls.find("STARTTLS") == std::string::npos);
}

TEST_CASE("STARTTLS is offered only when the listener has TLS on and not implicit", "[net][tls]") {
    struct Probe {
        Mailbox<std::string>* results;
        asio::awaitable<void> operator()(Session& session) const {
            std::error_code ec;
            const bool offered = session.starttls_available();
            if (!offered) co_await session.async_starttls(asio::redirect_error(asio::use_awaitable, ec));
            results->push(session.listener().name + " offered=" + (offered ? "yes" : "no") + " error=" +
                          (ec == NetError::starttls_unavailable ? "unavailable" : ec ? ec.message() : "none"));
            co_await asio::async_write(session.stream(), asio::buffer(std::string_view("done\r\n")),
                                       asio::use_awaitable);
        }
    };
    auto plain = make_listener("plain", {"127.0.0.1:0"});
    auto starttls = tls_listener("starttls", false);
    Mailbox<std::string> results;
    TlsServer server({plain, starttls}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(Probe{&results});
    for (const char* name : {"plain", "starttls"}) {
        Client client;
        REQUIRE(client.connect(*server.local_address(name)));
        CHECK(client.read_until("done\r\n"));
    }
    std::vector<std::string> seen{*results.pop(), *results.pop()};
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"plain offered=no error=unavailable", "starttls offered=yes error=none"});
}

TEST_CASE("a disabled TLS version is refused", "[net][tls]") {
    auto no13 = tls_listener("no13", true);
    no13.tls_disable_protocols = {TlsVersion::tls13};
    auto no12 = tls_listener("no12", true);
    no12.tls_disable_protocols = {TlsVersion::tls12};
    TlsServer server({no13, no12}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    CertificateFile ca;
    const std::uint16_t port13 = server.local_address("no13")->port();
    const std::uint16_t port12 = server.local_address("no12")->port();
    CHECK(handshake_refused(port13, ca.path, {"-tls1_3"}));
    CHECK(handshake_output(port13, ca.path, {}).find("hello TLSv1.2 ") != std::string::npos);
    CHECK(handshake_refused(port12, ca.path, {"-tls1_2"}));
    CHECK(handshake_refused(port12, ca.path, {"-tls1_1"}));  // never offered
    CHECK(handshake_output(port12, ca.path, {}).find("hello TLSv1.3 ") != std::string::npos);
    CHECK(eventually([&] { return server.stats("no13").tls_errors >= 1 && server.stats("no12").tls_errors >= 2; }));
}

TEST_CASE("a disabled TLS 1.2 suite is not negotiated", "[net][tls]") {
    auto listener = tls_listener("suites", true);
    listener.tls_disable_cipher_suites = {TlsCipherSuite::ecdhe_ecdsa_aes_128_gcm_sha256};
    TlsServer server({listener}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    CertificateFile ca;
    const std::uint16_t port = server.local_address("suites")->port();
    CHECK(handshake_refused(port, ca.path, {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}));
    const std::string allowed = handshake_output(port, ca.path, {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"});
    CHECK(allowed.find("hello TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384") != std::string::npos);
    const std::string any = handshake_output(port, ca.path, {"-tls1_2"});
    CHECK(any.find("hello TLSv1.2 ") != std::string::npos);
    CHECK(any.find("AES128") == std::string::npos);
}

TEST_CASE("tlsIgnoreClientOrder picks the server's TLS 1.2 suite order", "[net][tls]") {
    auto server_order = tls_listener("server-order", true);
    server_order.tls_disable_protocols = {TlsVersion::tls13};
    auto client_order = server_order;
    client_order.name = "client-order";
    client_order.tls_ignore_client_order = false;
    TlsServer server({server_order, client_order}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    CertificateFile ca;
    const std::vector<std::string> prefer_chacha{"-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384"};
    CHECK(handshake_output(server.local_address("server-order")->port(), ca.path, prefer_chacha)
              .find("hello TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384") != std::string::npos);
    CHECK(handshake_output(server.local_address("client-order")->port(), ca.path, prefer_chacha)
              .find("hello TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305") != std::string::npos);
}

TEST_CASE("a client that never finishes the handshake is cut at tlsTimeout", "[net][tls]") {
    auto listener = tls_listener("slow", true);
    listener.tls_timeout = Duration::from_milliseconds(300);
    TlsServer server({listener}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    for (std::string_view sent : {std::string_view{}, std::string_view("\x16\x03\x01\x02\x00", 5)}) {
        Client client;
        const auto start = Clock::now();
        REQUIRE(client.connect(*server.local_address("slow")));
        REQUIRE(client.send(sent));
        CHECK(client.read_until_closed(3s));
        const auto elapsed = Clock::now() - start;
        CHECK(elapsed >= 250ms);
        CHECK(elapsed < 1500ms);
        CHECK(server.policies().events.kinds->pop() == std::optional<EventKind>(EventKind::handshake_timeout));
    }
    CHECK(server.stats("slow").handshake_timeouts == 2);
    CHECK(server.stats("slow").sessions_started == 0);
}

TEST_CASE("a plaintext client on an implicit-TLS listener is closed, never served in plaintext", "[net][tls]") {
    TlsServer server({tls_listener("smtps", true)}, RunnerOptions{}, tls_policies());
    server.bind();
    server.start(TlsHello{});
    Client client;
    REQUIRE(client.connect(*server.local_address("smtps")));
    REQUIRE(client.send("EHLO plain.example\r\n"));
    CHECK(client.read_until_closed(3s));
    CHECK(client.received().find("hello") == std::string::npos);
    CHECK(server.policies().events.kinds->pop() == std::optional<EventKind>(EventKind::tls_error));
    CHECK(server.stats("smtps").sessions_started == 0);
}

TEST_CASE("TLS 1.3 cipher suites: BoringSSL refuses the listener, OpenSSL removes the suite", "[net][tls]") {
    auto listener = tls_listener("tls13", true);
    listener.tls_disable_cipher_suites = {TlsCipherSuite::tls13_aes_128_gcm_sha256};
    listener.provenance[static_cast<std::size_t>(Field::tls_disable_cipher_suites)].path =
        "server.listener.tls13.tls.disable-ciphers";
    const auto listening_before = own_listening_ports();
    TlsServer server({listener}, RunnerOptions{}, tls_policies());
    std::error_code ec;
    server.bind(ec);
#if defined(OPENSSL_IS_BORINGSSL)
    CHECK(ec == NetError::startup_failed);
    REQUIRE(server.startup_failures().size() == 1);
    const auto& failure = server.startup_failures().front();
    CHECK(failure.error == NetError::tls_suite_not_removable);
    CHECK(failure.key == "server.listener.tls13.tls.disable-ciphers");
    CHECK(failure.detail.find("TLS13_AES_128_GCM_SHA256") != std::string::npos);
    CHECK(own_listening_ports() == listening_before);

    // With TLS 1.3 off, no TLS 1.3 suite can be negotiated: the removal holds, and the listener starts.
    listener.tls_disable_protocols = {TlsVersion::tls13};
    TlsServer without13({listener}, RunnerOptions{}, tls_policies());
    without13.bind(ec);
    CHECK_FALSE(ec);
#else
    REQUIRE_FALSE(ec);
    server.start(TlsHello{});
    CertificateFile ca;
    const std::uint16_t port = server.local_address("tls13")->port();
    CHECK(handshake_refused(port, ca.path, {"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}));
    CHECK(handshake_output(port, ca.path, {"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"})
              .find("hello TLSv1.3 TLS_AES_256_GCM_SHA384") != std::string::npos);
#endif
}

TEST_CASE("the plaintext-only TLS policy refuses a TLS listener instead of serving it in plaintext", "[net][tls]") {
    BasicServerRunner<asio::ip::tcp, Policies<>::with_tls<PlaintextOnly>> server(
        {tls_listener("smtps", true), make_listener("plain", {"127.0.0.1:0"})});
    std::error_code ec;
    server.bind(ec);
    CHECK(ec == NetError::startup_failed);
    REQUIRE(server.startup_failures().size() == 1);
    CHECK(server.startup_failures().front().listener == "smtps");
    CHECK(server.startup_failures().front().error == NetError::tls_unavailable);
}
