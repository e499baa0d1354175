// Every diagnostic code berth knows, produced by a real input, with its exact path, line and column.
#include "berth/model/diagnostic.hpp"

#include "support/catch.hpp"

#include <set>

#include "support/resolve_helpers.hpp"

using namespace berth;

namespace {

struct Expectation {
    const char* code;
    const char* input;  ///< TOML unless it starts with '{' or '['
    const char* path;
    std::uint32_t line;
    std::uint32_t column;
    Severity severity = Severity::error;
};


// clang-format off
const Expectation expectations[] = {
    {"toml.syntax", "a = \n", "", 1, 5},
    {"json.syntax", "{\"name\": }", "", 1, 10},
    {"json.too-deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "", 1, 1},
    {"json.unknown-property", "{\"name\": \"a\", \"bind\": [\"127.0.0.1:1\"], \"x\": 1}", "/x", 1, 40},
    {"json.duplicate-name", "[{\"name\": \"a\", \"bind\": [\"127.0.0.1:1\"]},\n {\"name\": \"a\", \"bind\": [\"127.0.0.1:2\"]}]", "/1/name", 2, 11},
    {"json.shape", "\"text\"", "", 1, 1},
    {"env.unset", "[server.listener.a]\nprotocol = \"%{env:BERTH_TEST_SURELY_UNSET}%\"\nbind = \"127.0.0.1:1\"\n", "server.listener.a.protocol", 2, 12},
    {"env.malformed", "[server.listener.a]\nprotocol = \"%{env:X\"\nbind = \"127.0.0.1:1\"\n", "server.listener.a.protocol", 2, 12},
    {"listener.missing-protocol", "[server.listener.a]\nbind = \"127.0.0.1:1\"\n", "server.listener.a.protocol", 1, 18},
    {"listener.missing-bind", "[server.listener.a]\nprotocol = \"smtp\"\n", "server.listener.a.bind", 1, 18},
    {"listener.missing-name", "{\"bind\": [\"127.0.0.1:1\"]}", "/name", 1, 1},
    {"listener.empty-name", "{\"name\": \"\", \"bind\": [\"127.0.0.1:1\"]}", "/name", 1, 10},
    {"listener.not-a-table", "[server]\nlistener.a = 5\n", "server.listener.a", 2, 10},
    {"key.unknown", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\nsocket.backlogg = 5\n", "server.listener.a.socket.backlogg", 4, 8, Severity::warning},
    {"config.no-listeners", "[server]\nhostname = \"x\"\n", "server.listener", 1, 1, Severity::warning},
    {"value.wrong-type", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\nsocket.nodelay = 1\n", "server.listener.a.socket.nodelay", 4, 18},
    {"value.out-of-range", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\nmax-connections = 0\n", "server.listener.a.max-connections", 4, 19},
    {"linger.not-whole-seconds", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\nsocket.linger = \"1500ms\"\n", "server.listener.a.socket.linger", 4, 17},
    {"bind.missing-port", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"10.0.0.1\"\n", "server.listener.a.bind", 3, 8},
    {"bind.ipv6-needs-brackets", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"2001:db8::2:25\"\n", "server.listener.a.bind", 3, 8},
    {"bind.bad-port", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"10.0.0.1:65536\"\n", "server.listener.a.bind", 3, 8},
    {"bind.host-name", "[server.listener.a]\nprotocol = \"smtp\"\nbind = [\"localhost:25\"]\n", "server.listener.a.bind[0]", 3, 9},
    {"bind.leading-zero", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"10.0.0.01:25\"\n", "server.listener.a.bind", 3, 8},
    {"bind.named-scope", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"[fe80::1%eth0]:25\"\n", "server.listener.a.bind", 3, 8},
    {"bind.whitespace", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \" 10.0.0.1:25\"\n", "server.listener.a.bind", 3, 8},
    {"bind.wildcard", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"*:25\"\n", "server.listener.a.bind", 3, 8},
    {"bind.invalid", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"[::1\"\n", "server.listener.a.bind", 3, 8},
    {"bind.duplicate", "[server.listener.a]\nprotocol = \"smtp\"\nbind = [\"127.0.0.1:25\", \"127.0.0.1:0025\"]\n", "server.listener.a.bind[1]", 3, 25},
    {"ip-mask.invalid", "[server.proxy]\ntrusted-networks = \"10.0.0/8\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.proxy.trusted-networks", 2, 20},
    {"ip-mask.prefix-too-short", "[server.proxy]\ntrusted-networks = [\"10.0.0.0/7\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.proxy.trusted-networks[0]", 2, 21},
    {"ip-mask.prefix-too-long", "[server.proxy]\ntrusted-networks = [\"::1/129\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.proxy.trusted-networks[0]", 2, 21},
    {"ip-mask.unspecified-v4", "[server.proxy]\ntrusted-networks = [\"0.0.0.0/8\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.proxy.trusted-networks[0]", 2, 21},
    {"ip-mask.host-bits", "[server.proxy]\ntrusted-networks = [\"10.1.2.3/8\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.proxy.trusted-networks[0]", 2, 21, Severity::warning},
    {"duration.invalid", "[server.tls]\ntimeout = \"s\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.timeout", 2, 11},
    {"duration.compound", "[server.tls]\ntimeout = \"1m30s\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.timeout", 2, 11},
    {"duration.fraction", "[server.tls]\ntimeout = \"1.5s\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.timeout", 2, 11},
    {"duration.unknown-unit", "[server.tls]\ntimeout = \"5w\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.timeout", 2, 11},
    {"duration.out-of-range", "[server.tls]\ntimeout = \"99999999999999999999d\"\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.timeout", 2, 11},
    {"protocol.unknown", "[server.listener.a]\nprotocol = \"smtps\"\nbind = \"127.0.0.1:1\"\n", "server.listener.a.protocol", 2, 12},
    {"tls.unknown-version", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\ntls.disable-protocols = \"TLSv1.1\"\n", "server.listener.a.tls.disable-protocols", 4, 25},
    {"tls.unknown-cipher", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\ntls.disable-ciphers = [\"RC4\"]\n", "server.listener.a.tls.disable-ciphers[0]", 4, 24},
    {"tls.all-versions-disabled", "[server.tls]\ndisable-protocols = [\"TLSv1.2\", \"TLSv1.3\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n", "server.tls.disable-protocols", 2, 21},
    {"tls.all-ciphers-disabled", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\ntls.disable-ciphers = [\"TLS13_AES_256_GCM_SHA384\", \"TLS13_AES_128_GCM_SHA256\", \"TLS13_CHACHA20_POLY1305_SHA256\"]\n", "server.listener.a.tls.disable-ciphers", 4, 23},
    {"list.empty-inherits", "[server.tls]\ndisable-protocols = [\"TLSv1.2\"]\n[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\ntls.disable-protocols = []\n", "server.listener.a.tls.disable-protocols", 6, 25, Severity::warning},
    {"socket.backlog-clamped", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\nsocket.backlog = 5000\n", "server.listener.a.socket.backlog", 4, 18, Severity::warning},
    {"tls.port-convention", "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:25\"\ntls.implicit = true\n", "server.listener.a.bind", 3, 8, Severity::warning},
};
// clang-format on

}  // namespace

TEST_CASE("each diagnostic code: exact code, path, line, column and severity", "[diagnostics]") {
    for (const auto& e : expectations) {
        const std::string_view input = e.input;
        INFO(e.code << "\n" << input);
        const bool json = input.starts_with("{") || input.starts_with("[[") || input.starts_with("[{") ||
                          input.starts_with("\"");
        const Resolution r = json ? test::resolve_json(input) : test::resolve_toml(input);
        const Diagnostic* found = nullptr;
        for (const auto& d : r.diagnostics)
            if (d.code == e.code) found = &d;
        REQUIRE(found);
        CHECK(found->path == e.path);
        CHECK(found->line == e.line);
        CHECK(found->column == e.column);
        CHECK(found->severity == e.severity);
        CHECK_FALSE(found->message.empty());
        CHECK(r.valid() == (e.severity == Severity::warning && !has_errors(r.diagnostics)));
    }
}

TEST_CASE("every known code is exercised above", "[diagnostics]") {
    std::set<std::string_view> covered;
    for (const auto& e : expectations) covered.insert(e.code);
    for (auto code : known_diagnostic_codes()) {
        INFO(code);
        CHECK(covered.count(code) == 1);
    }
}

TEST_CASE("all problems are collected in one pass", "[diagnostics]") {
    const auto r = test::resolve_toml("[server.listener.a]\nbind = [\"x\", \"10.0.0.1\"]\nsocket.ttl = 0\n"
                                      "[server.listener.b]\nprotocol = \"nope\"\nbind = \"127.0.0.1:1\"\n");
    std::set<std::string> paths;
    for (const auto& d : r.diagnostics) paths.insert(d.path);
    CHECK(paths.count("server.listener.a.bind[0]"));
    CHECK(paths.count("server.listener.a.bind[1]"));
    CHECK(paths.count("server.listener.a.socket.ttl"));
    CHECK(paths.count("server.listener.a.protocol"));
    CHECK(paths.count("server.listener.b.protocol"));
    for (std::size_t i = 1; i < r.diagnostics.size(); ++i)
        CHECK(r.diagnostics[i - 1].line <= r.diagnostics[i].line);
}

TEST_CASE("an inherited problem is reported once, at the key it came from", "[diagnostics]") {
    const auto r = test::resolve_toml("[server.tls]\ndisable-protocols = [\"TLSv1.2\", \"TLSv1.3\"]\n"
                                      "[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n"
                                      "[server.listener.b]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:2\"\n");
    std::size_t count = 0;
    for (const auto& d : r.diagnostics) count += d.code == "tls.all-versions-disabled";
    CHECK(count == 1);
    CHECK(r.listeners.empty());
}

TEST_CASE("disabling every suite of a disabled version is fine", "[diagnostics]") {
    const auto r = test::resolve_toml("[server.listener.a]\nprotocol = \"smtp\"\nbind = \"127.0.0.1:1\"\n"
                                      "tls.disable-protocols = \"TLSv1.3\"\n"
                                      "tls.disable-ciphers = [\"TLS13_AES_256_GCM_SHA384\", \"TLS13_AES_128_GCM_SHA256\", "
                                      "\"TLS13_CHACHA20_POLY1305_SHA256\"]\n");
    CHECK(r.valid());
}
