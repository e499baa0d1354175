// Every example of the listeners document (seeds/listeners.md), resolved as the document describes it.
#include "berth/model/resolve.hpp"

#include "support/catch.hpp"

#include "support/resolve_helpers.hpp"

using namespace berth;
using berth::test::find_diagnostic;
using berth::test::resolve_toml;

TEST_CASE("Bind settings: several IPv4 and IPv6 addresses, the bare IPv6 one lacks a port", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
bind = ["192.0.2.1:25", "203.0.113.9:25", "2001:db8::2"]
protocol = "smtp"
)");
    CHECK_FALSE(r.valid());
    const auto d = find_diagnostic(r, "server.listener.smtp.bind[2]");
    REQUIRE(d);
    CHECK(d->code == "bind.missing-port");
    CHECK(d->severity == Severity::error);
    CHECK(d->line == 2);
    CHECK(d->column == 43);
    CHECK(d->hint.find("[2001:db8::2]:PORT") != std::string::npos);
    CHECK(d->hint.find("[2001:db8::2]:25") != std::string::npos);
    CHECK(r.listeners.empty());
}

TEST_CASE("Bind settings: the same addresses with the IPv6 one bracketed", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
bind = ["192.0.2.1:25", "203.0.113.9:25", "[2001:db8::2]:25"]
protocol = "smtp"
)");
    REQUIRE(r.valid());
    const auto& l = r.listeners.at(0);
    REQUIRE(l.bind.size() == 3);
    CHECK(l.bind[0].to_string() == "192.0.2.1:25");
    CHECK(l.bind[1].to_string() == "203.0.113.9:25");
    CHECK(l.bind[2].to_string() == "[2001:db8::2]:25");
}

TEST_CASE("Bind settings: all interfaces, written as one string (protocol added)", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
bind = "[::]:25"
protocol = "smtp"
)");
    REQUIRE(r.valid());
    CHECK(r.listeners.at(0).bind.at(0).to_string() == "[::]:25");
    CHECK(r.listeners.at(0).source_of(Field::bind).path == "server.listener.smtp.bind");
}

TEST_CASE("Bind settings: without protocol the listener is an error, not silently dropped", "[seed]") {
    const auto r = resolve_toml("[server.listener.\"smtp\"]\nbind = \"[::]:25\"\n");
    const auto d = find_diagnostic(r, "server.listener.smtp.protocol");
    REQUIRE(d);
    CHECK(d->code == "listener.missing-protocol");
    CHECK(d->line == 1);
}

TEST_CASE("Protocol: an SMTP server on 25 and an IMAP server on 143", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
bind = ["[::]:25"]
protocol = "smtp"

[server.listener."imap"]
bind = ["[::]:143"]
protocol = "imap"
)");
    REQUIRE(r.valid());
    REQUIRE(r.listeners.size() == 2);
    CHECK(r.find("smtp")->protocol == Protocol::smtp);
    CHECK(r.find("imap")->protocol == Protocol::imap);
    CHECK(r.find("imap")->bind.at(0).port() == 143);
    CHECK(r.diagnostics.empty());
}

TEST_CASE("Maximum connections: server-wide 8192", "[seed]") {
    const auto r = resolve_toml(R"([server]
max-connections = 8192

[server.listener.smtp]
bind = "[::]:25"
protocol = "smtp"
)");
    REQUIRE(r.valid());
    CHECK(r.listeners.at(0).max_connections == 8192);
    CHECK(r.listeners.at(0).source_of(Field::max_connections).path == "server.max-connections");
    CHECK(r.listeners.at(0).source_of(Field::max_connections).line == 2);
}

TEST_CASE("Maximum connections: submissions overrides it with 1024", "[seed]") {
    const auto r = resolve_toml(R"([server]
max-connections = 8192

[server.listener."submissions"]
bind = ["[::]:465"]
protocol = "smtp"
tls.implicit = true
max-connections = 1024

[server.listener.smtp]
bind = "[::]:25"
protocol = "smtp"
)");
    REQUIRE(r.valid());
    CHECK(r.find("submissions")->max_connections == 1024);
    CHECK(r.find("submissions")->tls_implicit);
    CHECK(r.find("submissions")->source_of(Field::max_connections).path ==
          "server.listener.submissions.max-connections");
    CHECK(r.find("smtp")->max_connections == 8192);
}

TEST_CASE("Overriding defaults: implicit TLS for one listener over server-wide false", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."submissions"]
tls.implicit = true
bind = "[::]:465"
protocol = "smtp"

[server.listener."submission"]
bind = "[::]:587"
protocol = "smtp"

[server.tls]
implicit = false
)");
    REQUIRE(r.valid());
    CHECK(r.find("submissions")->tls_implicit);
    CHECK_FALSE(r.find("submission")->tls_implicit);
    CHECK(r.find("submission")->source_of(Field::tls_implicit).path == "server.tls.implicit");
}

TEST_CASE("Overriding defaults: a larger backlog for one listener", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
socket.backlog = 2048
bind = "[::]:25"
protocol = "smtp"

[server.listener."imap"]
bind = "[::]:143"
protocol = "imap"

[server.socket]
backlog = 1024
)");
    REQUIRE(r.valid());
    CHECK(r.find("smtp")->socket_backlog == 2048);
    CHECK(r.find("imap")->socket_backlog == 1024);
    CHECK(r.find("imap")->source_of(Field::socket_backlog).path == "server.socket.backlog");
    CHECK(r.find("imap")->source_of(Field::socket_backlog).line == 11);
}

TEST_CASE("Example: SMTP on 25, submission on 587, submissions with implicit TLS on 465, management", "[seed]") {
    const auto r = resolve_toml(R"([server.listener."smtp"]
bind = ["[::]:25"]
protocol = "smtp"

[server.listener."submission"]
bind = ["[::]:587"]
protocol = "smtp"

[server.listener."submissions"]
bind = ["[::]:465"]
protocol = "smtp"
tls.implicit = true

[server.listener."management"]
bind = ["127.0.0.1:8080"]
protocol = "http"
)");
    REQUIRE(r.valid());
    CHECK(r.diagnostics.empty());
    REQUIRE(r.listeners.size() == 4);
    CHECK(r.listeners[0].name == "management");  // sorted by name
    CHECK(r.find("management")->protocol == Protocol::http);
    CHECK(r.find("management")->bind.at(0).to_string() == "127.0.0.1:8080");
    CHECK(r.find("submissions")->tls_implicit);
    CHECK(r.find("submission")->offers_starttls());
    CHECK_FALSE(r.find("submissions")->offers_starttls());
    for (const auto& l : r.listeners) {
        CHECK(l.max_connections == 8192);
        CHECK(l.socket_backlog == 1024);
        CHECK(l.tls_timeout.milliseconds() == 60000);
    }
}
