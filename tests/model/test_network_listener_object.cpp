// Every default and constraint of the NetworkListener object (seeds/network-listener-object.txt).
#include "berth/config/json_reader.hpp"

#include "support/catch.hpp"

#include "support/resolve_helpers.hpp"

using namespace berth;
using berth::test::find_diagnostic;
using berth::test::resolve_json;

namespace {
std::string object_with(const std::string& field) {
    return R"({"name": "l", "bind": ["127.0.0.1:2525"])" + (field.empty() ? std::string{} : ", " + field) + "}";
}
}  // namespace

TEST_CASE("NetworkListener defaults", "[json][seed]") {
    const auto r = resolve_json(object_with(""));
    REQUIRE(r.valid());
    const auto& l = r.listeners.at(0);
    CHECK(l.protocol == Protocol::smtp);
    CHECK(l.source_of(Field::protocol).is_default());
    CHECK(l.socket_backlog == 1024);
    CHECK(l.socket_no_delay);
    CHECK(l.socket_reuse_address);
    CHECK(l.socket_reuse_port);
    CHECK_FALSE(l.socket_receive_buffer_size);
    CHECK_FALSE(l.socket_send_buffer_size);
    CHECK_FALSE(l.socket_tos_v4);
    CHECK_FALSE(l.socket_ttl);
    CHECK(l.use_tls);
    CHECK(l.tls_disable_cipher_suites.empty());
    CHECK(l.tls_disable_protocols.empty());
    CHECK(l.tls_ignore_client_order);
    CHECK_FALSE(l.tls_implicit);
    CHECK(l.tls_timeout.milliseconds() == 60000);
    CHECK(l.max_connections == 8192);
    CHECK(l.proxy_trusted_networks.empty());
}

TEST_CASE("NetworkListener minimums at the boundary and past it", "[json][seed]") {
    struct Row {
        const char* field;
        const char* pointer;
    };
    for (const Row row : {Row{"socketBacklog", "/socketBacklog"}, Row{"maxConnections", "/maxConnections"},
                          Row{"socketReceiveBufferSize", "/socketReceiveBufferSize"},
                          Row{"socketSendBufferSize", "/socketSendBufferSize"}, Row{"socketTosV4", "/socketTosV4"},
                          Row{"socketTtl", "/socketTtl"}}) {
        INFO(row.field);
        CHECK(resolve_json(object_with("\"" + std::string(row.field) + "\": 1")).valid());
        const auto r = resolve_json(object_with("\"" + std::string(row.field) + "\": 0"));
        CHECK_FALSE(r.valid());
        const auto d = find_diagnostic(r, row.pointer);
        REQUIRE(d);
        CHECK(d->code == "value.out-of-range");
        CHECK(d->line == 1);
    }
}

TEST_CASE("NetworkListener maximums of SPEC §1", "[json]") {
    CHECK(resolve_json(object_with("\"socketTtl\": 255")).valid());
    CHECK_FALSE(resolve_json(object_with("\"socketTtl\": 256")).valid());
    CHECK(resolve_json(object_with("\"socketTosV4\": 255")).valid());
    CHECK_FALSE(resolve_json(object_with("\"socketTosV4\": 256")).valid());
    CHECK(resolve_json(object_with("\"socketSendBufferSize\": 2147483647")).valid());
    CHECK_FALSE(resolve_json(object_with("\"socketSendBufferSize\": 2147483648")).valid());
    CHECK_FALSE(resolve_json(object_with("\"socketBacklog\": -1")).valid());
    CHECK_FALSE(resolve_json(object_with("\"socketBacklog\": 1.5")).valid());
}

TEST_CASE("bind needs at least one item", "[json][seed]") {
    const auto r = resolve_json(R"({"name": "l", "bind": []})");
    const auto d = find_diagnostic(r, "/bind");
    REQUIRE(d);
    CHECK(d->code == "listener.missing-bind");
    const auto missing = resolve_json(R"({"name": "l"})");
    REQUIRE(find_diagnostic(missing, "/bind"));
    CHECK(find_diagnostic(missing, "/bind")->code == "listener.missing-bind");
}

TEST_CASE("name is required and unique", "[json][seed]") {
    auto r = resolve_json(R"([{"name": "a", "bind": ["127.0.0.1:1"]}, {"name": "a", "bind": ["127.0.0.1:2"]}])");
    auto d = find_diagnostic(r, "/1/name");
    REQUIRE(d);
    CHECK(d->code == "json.duplicate-name");
    CHECK(r.listeners.size() == 1);
    r = resolve_json(R"({"bind": ["127.0.0.1:1"]})");
    REQUIRE(find_diagnostic(r, "/name"));
    CHECK(find_diagnostic(r, "/name")->code == "listener.missing-name");
}

TEST_CASE("the four input shapes of SPEC §7", "[json]") {
    const char* single = R"({"name": "a", "bind": ["127.0.0.1:1"], "protocol": "imap"})";
    const char* array = R"([{"name": "a", "bind": ["127.0.0.1:1"], "protocol": "imap"}])";
    const char* wrapper = R"({"maxConnections": 5, "listeners": [{"name": "a", "bind": ["127.0.0.1:1"], "protocol": "imap"}]})";
    const char* jmap = R"({"methodResponses": [["x:NetworkListener/get", {"accountId": "x", "state": "1",
        "list": [{"id": "b1", "name": "a", "bind": {"127.0.0.1:1": true}, "protocol": "imap"}], "notFound": []}, "c0"]],
        "sessionState": "s"})";
    for (const char* text : {single, array, wrapper, jmap}) {
        INFO(text);
        const auto r = resolve_json(text);
        REQUIRE(r.valid());
        REQUIRE(r.listeners.size() == 1);
        CHECK(r.listeners[0].protocol == Protocol::imap);
        CHECK(r.listeners[0].bind.at(0).to_string() == "127.0.0.1:1");
    }
    CHECK(resolve_json(wrapper).listeners[0].max_connections == 5);
    CHECK(resolve_json(jmap).listeners[0].source_of(Field::bind).path == "/methodResponses/0/1/list/0/bind");
}

TEST_CASE("sets as arrays or Stalwart's member objects; durations as ms or strings", "[json]") {
    const auto a = resolve_json(object_with(R"("tlsDisableProtocols": ["tls12"], "tlsTimeout": 1500)"));
    const auto b = resolve_json(object_with(R"("tlsDisableProtocols": {"tls12": true}, "tlsTimeout": "1500ms")"));
    REQUIRE(a.valid());
    REQUIRE(b.valid());
    CHECK(a.listeners[0].same_values(b.listeners[0]));
    CHECK(a.listeners[0].tls_timeout.milliseconds() == 1500);
    const auto bad = resolve_json(object_with(R"("tlsDisableProtocols": {"tls12": false})"));
    REQUIRE(find_diagnostic(bad, "/tlsDisableProtocols/tls12"));
}

TEST_CASE("system-level values and the override list", "[json]") {
    const auto r = resolve_json(R"({"maxConnections": 50, "proxyTrustedNetworks": ["10.0.0.0/8"], "listeners": [
        {"name": "a", "bind": ["127.0.0.1:1"]},
        {"name": "b", "bind": ["127.0.0.1:2"], "maxConnections": 7, "overrideProxyTrustedNetworks": ["192.168.1.0/24"]},
        {"name": "c", "bind": ["127.0.0.1:3"], "maxConnections": null}]})");
    REQUIRE(r.valid());
    CHECK(r.find("a")->max_connections == 50);
    CHECK(r.find("a")->proxy_trusted_networks.at(0).to_string() == "10.0.0.0/8");
    CHECK(r.find("a")->source_of(Field::proxy_trusted_networks).path == "/proxyTrustedNetworks");
    CHECK(r.find("b")->max_connections == 7);
    CHECK(r.find("b")->proxy_trusted_networks.at(0).to_string() == "192.168.1.0/24");
    CHECK(r.find("c")->max_connections == 50);
}

TEST_CASE("JSON names are exact; unknown properties are errors with a suggestion", "[json]") {
    auto r = resolve_json(object_with(R"("protocol": "managesieve")"));
    REQUIRE(find_diagnostic(r, "/protocol"));
    CHECK(find_diagnostic(r, "/protocol")->hint.find("manageSieve") != std::string::npos);
    r = resolve_json(object_with(R"("socketBacklg": 1)"));
    const auto d = find_diagnostic(r, "/socketBacklg");
    REQUIRE(d);
    CHECK(d->code == "json.unknown-property");
    CHECK(d->hint.find("socketBacklog") != std::string::npos);
    // The error keeps the listener out, also when the document is the listener itself (pointer "").
    CHECK(r.listeners.empty());
    CHECK(resolve_json(R"({"listeners": [{"name": "l", "bind": ["127.0.0.1:2525"], "x": 1}]})").listeners.empty());
    CHECK(resolve_json(object_with(R"("socketLinger": 5000)")).listeners.at(0).socket_linger->milliseconds() == 5000);
}

TEST_CASE("JSON syntax errors, depth and bad bytes", "[json]") {
    auto r = resolve_json("{\"name\": \"a\",\n  \"bind\": [}");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "json.syntax");
    CHECK(r.diagnostics[0].line == 2);
    r = resolve_json(std::string(100000, '['));
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "json.too-deep");
    r = resolve_json("{\"name\": \"\xff\", \"bind\": [\"127.0.0.1:1\"]}");
    CHECK(r.diagnostics.at(0).code == "json.syntax");
    r = resolve_json("");
    CHECK(r.diagnostics.at(0).code == "json.syntax");
    r = resolve_json("42");
    CHECK(r.diagnostics.at(0).code == "json.shape");
}
