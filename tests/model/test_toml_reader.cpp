#include "berth/config/toml_reader.hpp"

#include "support/catch.hpp"

#include "berth/model/resolve.hpp"
#include "support/resolve_helpers.hpp"

using namespace berth;
using berth::test::find_diagnostic;
using berth::test::resolve_toml;

TEST_CASE("every listener key is read at listener level", "[toml]") {
    const auto r = resolve_toml(R"(
[server.listener.smtp]
bind = ["127.0.0.1:2525"]
protocol = "smtp"
max-connections = 10
socket.reuse-addr = false
socket.reuse-port = false
socket.backlog = 16
socket.ttl = 64
socket.send-buffer-size = 65536
socket.recv-buffer-size = 131072
socket.linger = "5s"
socket.tos = 40
socket.nodelay = false
tls.enable = false
tls.implicit = true
tls.timeout = "30s"
tls.disable-protocols = ["TLSv1.2"]
tls.disable-ciphers = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
tls.ignore-client-order = false
proxy.trusted-networks = ["10.0.0.0/8"]
)");
    REQUIRE(r.valid());
    REQUIRE(r.listeners.size() == 1);
    const auto& l = r.listeners[0];
    CHECK(l.name == "smtp");
    CHECK(l.bind.front().to_string() == "127.0.0.1:2525");
    CHECK(l.protocol == Protocol::smtp);
    CHECK(l.max_connections == 10);
    CHECK_FALSE(l.socket_reuse_address);
    CHECK_FALSE(l.socket_reuse_port);
    CHECK(l.socket_backlog == 16);
    CHECK(l.socket_ttl == 64);
    CHECK(l.socket_send_buffer_size == 65536u);
    CHECK(l.socket_receive_buffer_size == 131072u);
    CHECK(l.socket_linger->milliseconds() == 5000);
    CHECK(l.socket_tos_v4 == 40);
    CHECK_FALSE(l.socket_no_delay);
    CHECK_FALSE(l.use_tls);
    CHECK(l.tls_implicit);
    CHECK(l.tls_timeout.milliseconds() == 30000);
    CHECK(l.tls_disable_protocols == std::vector{TlsVersion::tls12});
    CHECK(l.tls_disable_cipher_suites == std::vector{TlsCipherSuite::ecdhe_rsa_aes_128_gcm_sha256});
    CHECK_FALSE(l.tls_ignore_client_order);
    REQUIRE(l.proxy_trusted_networks.size() == 1);
    CHECK(l.proxy_trusted_networks[0].to_string() == "10.0.0.0/8");
    for (const auto& spec : all_fields()) {
        INFO(spec.toml_key);
        CHECK(l.source_of(spec.field).path == "server.listener.smtp." + std::string(spec.toml_key));
        CHECK(l.source_of(spec.field).line > 1);
    }
}

TEST_CASE("every server-wide key is read and inherited", "[toml]") {
    const auto r = resolve_toml(R"(
[server]
max-connections = 11

[server.socket]
reuse-addr = false
reuse-port = false
backlog = 17
ttl = 65
send-buffer-size = 65537
recv-buffer-size = 131073
linger = "6s"
tos = 41
nodelay = false

[server.tls]
enable = false
implicit = true
timeout = "31s"
disable-protocols = "TLSv1.3"
disable-ciphers = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
ignore-client-order = false

[server.proxy]
trusted-networks = "192.168.0.0/16"

[server.listener.a]
bind = "127.0.0.1:2525"
protocol = "imap"
)");
    REQUIRE(r.valid());
    const auto& l = r.listeners.at(0);
    CHECK(l.max_connections == 11);
    CHECK_FALSE(l.socket_reuse_address);
    CHECK(l.socket_backlog == 17);
    CHECK(l.socket_ttl == 65);
    CHECK(l.socket_send_buffer_size == 65537u);
    CHECK(l.socket_receive_buffer_size == 131073u);
    CHECK(l.socket_linger->milliseconds() == 6000);
    CHECK(l.socket_tos_v4 == 41);
    CHECK_FALSE(l.socket_no_delay);
    CHECK_FALSE(l.use_tls);
    CHECK(l.tls_implicit);
    CHECK(l.tls_timeout.milliseconds() == 31000);
    CHECK(l.tls_disable_protocols == std::vector{TlsVersion::tls13});
    CHECK(l.tls_disable_cipher_suites == std::vector{TlsCipherSuite::ecdhe_rsa_aes_256_gcm_sha384});
    CHECK_FALSE(l.tls_ignore_client_order);
    CHECK(l.proxy_trusted_networks.at(0).to_string() == "192.168.0.0/16");
    for (const auto& spec : all_fields()) {
        if (spec.toml_server_key.empty()) continue;
        INFO(spec.toml_key);
        CHECK(l.source_of(spec.field).path == spec.toml_server_key);
    }
}

TEST_CASE("built-in defaults apply when neither level sets a field", "[toml]") {
    const auto r = resolve_toml("[server.listener.a]\nbind = \"127.0.0.1:2525\"\nprotocol = \"smtp\"\n");
    REQUIRE(r.valid());
    const auto& l = r.listeners.at(0);
    const ResolvedListener defaults;
    CHECK(l.max_connections == 8192);
    CHECK(l.socket_reuse_address);
    CHECK(l.socket_reuse_port);
    CHECK(l.socket_backlog == 1024);
    CHECK_FALSE(l.socket_ttl);
    CHECK_FALSE(l.socket_send_buffer_size);
    CHECK_FALSE(l.socket_receive_buffer_size);
    CHECK_FALSE(l.socket_linger);
    CHECK_FALSE(l.socket_tos_v4);
    CHECK(l.socket_no_delay);
    CHECK(l.use_tls);
    CHECK_FALSE(l.tls_implicit);
    CHECK(l.tls_timeout.milliseconds() == 60000);
    CHECK(l.tls_disable_protocols.empty());
    CHECK(l.tls_disable_cipher_suites.empty());
    CHECK(l.tls_ignore_client_order);
    CHECK(l.proxy_trusted_networks.empty());
    for (const auto& spec : all_fields()) {
        if (spec.field == Field::bind || spec.field == Field::protocol) continue;
        INFO(spec.toml_key);
        CHECK(l.source_of(spec.field).is_default());
    }
}

TEST_CASE("scalars as Stalwart stores them: strings of digits and booleans", "[toml]") {
    const auto r = resolve_toml(R"(
[server.listener.a]
bind = "127.0.0.1:2525"
protocol = "smtp"
socket.backlog = "2048"
socket.nodelay = "false"
tls.timeout = "1500"
max-connections = "7"
)");
    REQUIRE(r.valid());
    const auto& l = r.listeners.at(0);
    CHECK(l.socket_backlog == 2048);
    CHECK_FALSE(l.socket_no_delay);
    CHECK(l.tls_timeout.milliseconds() == 1500);
    CHECK(l.max_connections == 7);
}

TEST_CASE("false unsets an optional server-wide value for one listener", "[toml]") {
    const auto r = resolve_toml(R"(
[server.socket]
ttl = 32
linger = "1s"

[server.listener.a]
bind = "127.0.0.1:2525"
protocol = "smtp"
socket.ttl = false
socket.linger = false

[server.listener.b]
bind = "127.0.0.1:2526"
protocol = "smtp"
)");
    REQUIRE(r.valid());
    CHECK_FALSE(r.find("a")->socket_ttl);
    CHECK_FALSE(r.find("a")->socket_linger);
    CHECK(r.find("a")->source_of(Field::socket_ttl).path == "server.listener.a.socket.ttl");
    CHECK(r.find("b")->socket_ttl == 32);
}

TEST_CASE("wrong types and ranges name the key, position and fix", "[toml]") {
    const auto r = resolve_toml("[server.listener.a]\n"
                                "bind = 25\n"
                                "protocol = \"smtp\"\n"
                                "socket.backlog = 0\n"
                                "socket.ttl = 256\n"
                                "socket.nodelay = \"yes\"\n"
                                "socket.tos = -1\n"
                                "tls.timeout = 0\n"
                                "socket.linger = 1\n");
    CHECK_FALSE(r.valid());
    auto d = find_diagnostic(r, "server.listener.a.bind");
    REQUIRE(d);
    CHECK(d->code == "value.wrong-type");
    CHECK(d->line == 2);
    CHECK(d->column == 8);
    d = find_diagnostic(r, "server.listener.a.socket.backlog");
    REQUIRE(d);
    CHECK(d->code == "value.out-of-range");
    CHECK(d->line == 4);
    CHECK(d->hint.find("0 as unset") != std::string::npos);
    d = find_diagnostic(r, "server.listener.a.socket.ttl");
    REQUIRE(d);
    CHECK(d->code == "value.out-of-range");
    CHECK(d->message.find("255") != std::string::npos);
    d = find_diagnostic(r, "server.listener.a.socket.nodelay");
    REQUIRE(d);
    CHECK(d->code == "value.wrong-type");
    d = find_diagnostic(r, "server.listener.a.socket.tos");
    REQUIRE(d);
    CHECK(d->code == "value.out-of-range");
    d = find_diagnostic(r, "server.listener.a.tls.timeout");
    REQUIRE(d);
    CHECK(d->code == "value.out-of-range");
    d = find_diagnostic(r, "server.listener.a.socket.linger");
    REQUIRE(d);
    CHECK(d->code == "linger.not-whole-seconds");
    CHECK(d->hint.find("\"1s\"") != std::string::npos);
    CHECK(r.listeners.empty());
}

TEST_CASE("unknown keys warn with a suggestion; Protocol is not protocol", "[toml]") {
    const auto r = resolve_toml("[server.listener.a]\n"
                                "bind = \"127.0.0.1:2525\"\n"
                                "Protocol = \"smtp\"\n"
                                "tls.ignore_client_order = true\n"
                                "[server.socket]\n"
                                "backlogg = 5\n");
    CHECK_FALSE(r.valid());
    auto d = find_diagnostic(r, "server.listener.a.Protocol");
    REQUIRE(d);
    CHECK(d->code == "key.unknown");
    CHECK(d->severity == Severity::warning);
    CHECK(d->hint.find("case-sensitive") != std::string::npos);
    d = find_diagnostic(r, "server.listener.a.protocol");
    REQUIRE(d);
    CHECK(d->code == "listener.missing-protocol");
    CHECK(d->line == 1);
    d = find_diagnostic(r, "server.listener.a.tls.ignore_client_order");
    REQUIRE(d);
    CHECK(d->hint.find("tls.ignore-client-order") != std::string::npos);
    d = find_diagnostic(r, "server.socket.backlogg");
    REQUIRE(d);
    CHECK(d->hint.find("backlog") != std::string::npos);
}

TEST_CASE("other Stalwart tables are left alone", "[toml]") {
    const auto r = resolve_toml(R"(
[server]
hostname = "mx.example.org"
[server.http]
permissive-cors = true
[store."rocksdb"]
type = "rocksdb"
[server.listener.a]
bind = "127.0.0.1:2525"
protocol = "smtp"
)");
    CHECK(r.valid());
    CHECK(r.diagnostics.empty());
}

TEST_CASE("env variables are substituted, an unset one is an error", "[toml]") {
    berth::ReadOptions options;
    options.environment = [](std::string_view name) -> std::optional<std::string> {
        if (name == "PORT") return "2525";
        return std::nullopt;
    };
    auto r = resolve_toml("[server.listener.a]\nbind = \"127.0.0.1:%{env:PORT}%\"\nprotocol = \"smtp\"\n", options);
    REQUIRE(r.valid());
    CHECK(r.listeners.at(0).bind.at(0).port() == 2525);
    r = resolve_toml("[server.listener.a]\nbind = \"127.0.0.1:%{env:NOPE}%\"\nprotocol = \"smtp\"\n", options);
    auto d = find_diagnostic(r, "server.listener.a.bind");
    REQUIRE(d);
    CHECK(d->code == "env.unset");
}

TEST_CASE("syntax errors have a position and an empty path", "[toml]") {
    const auto r = resolve_toml("[server.listener.a]\nbind = \n");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "toml.syntax");
    CHECK(r.diagnostics[0].path.empty());
    CHECK(r.diagnostics[0].line == 2);
}

TEST_CASE("quoted and dotted listener ids give quoted paths", "[toml]") {
    const auto r = resolve_toml("[server.listener.\"mx.in\"]\nbind = \"x\"\nprotocol = \"smtp\"\n");
    auto d = find_diagnostic(r, "server.listener.\"mx.in\".bind");
    REQUIRE(d);
    CHECK(d->code == "bind.host-name");
}

TEST_CASE("non-ASCII input never reaches toml++'s undefined behaviour", "[toml]") {
    for (const char* text : {"é = 1", "a = 1 é", "[é]", "a.Ж = 1", "。 = 1", "s = \"\"\"\\\n§\"\"\"", "[[[1]]]",
                             "\xff\xfe", "[server.listener.\xc3]"}) {
        INFO(text);
        const auto r = resolve_toml(text);
        CHECK_FALSE(r.diagnostics.empty());
    }
}
