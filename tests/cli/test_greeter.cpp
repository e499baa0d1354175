// The conversations of `berth serve`, line by line, without sockets.
#include "../../tools/berth/greeter.hpp"

#include "support/catch.hpp"

using berth::Protocol;
using berth::serve::Greeter;
using Then = berth::serve::Reply::Then;

TEST_CASE("SMTP advertises STARTTLS only when the listener allows it and TLS is not on yet", "[greeter]") {
    Greeter g(Protocol::smtp, true, false, "localhost");
    CHECK(g.greeting() == "220 localhost ESMTP berth\r\n");
    auto r = g.on_line("EHLO client.example");
    CHECK(r.text.find("250-STARTTLS\r\n") != std::string::npos);
    CHECK(r.text.ends_with("250 8BITMIME\r\n"));
    r = g.on_line("STARTTLS");
    CHECK(r.text == "220 2.0.0 Ready to start TLS\r\n");
    CHECK(r.then == Then::start_tls);
    CHECK(g.on_tls_established().empty());
    CHECK(g.on_line("EHLO client.example").text.find("STARTTLS") == std::string::npos);
    CHECK(g.on_line("STARTTLS").text.starts_with("502"));
    r = g.on_line("quit");
    CHECK(r.text == "221 2.0.0 Bye\r\n");
    CHECK(r.then == Then::close);

    Greeter plain(Protocol::smtp, false, false, "localhost");
    CHECK(plain.on_line("EHLO x").text.find("STARTTLS") == std::string::npos);
    CHECK(plain.on_line("STARTTLS").then == Then::keep);
}

TEST_CASE("LMTP greets with LHLO", "[greeter]") {
    Greeter g(Protocol::lmtp, true, false, "localhost");
    CHECK(g.greeting().find("LMTP") != std::string::npos);
    CHECK(g.on_line("LHLO x").text.find("250-STARTTLS") != std::string::npos);
    CHECK(g.on_line("EHLO x").text.starts_with("502"));
}

TEST_CASE("IMAP capabilities, STARTTLS and LOGOUT", "[greeter]") {
    Greeter g(Protocol::imap, true, false, "localhost");
    CHECK(g.greeting().find("STARTTLS") != std::string::npos);
    CHECK(g.on_line("a1 CAPABILITY").text == "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK CAPABILITY completed\r\n");
    auto r = g.on_line("a2 STARTTLS");
    CHECK(r.then == Then::start_tls);
    g.on_tls_established();
    CHECK(g.on_line("a3 CAPABILITY").text.find("STARTTLS") == std::string::npos);
    r = g.on_line("a4 LOGOUT");
    CHECK(r.then == Then::close);
    CHECK(r.text.find("a4 OK") != std::string::npos);
    CHECK(Greeter(Protocol::imap, false, true, "h").greeting().find("STARTTLS") == std::string::npos);
}

TEST_CASE("POP3 CAPA and STLS", "[greeter]") {
    Greeter g(Protocol::pop3, true, false, "localhost");
    CHECK(g.greeting().starts_with("+OK"));
    CHECK(g.on_line("CAPA").text.find("STLS\r\n") != std::string::npos);
    CHECK(g.on_line("STLS").then == Then::start_tls);
    g.on_tls_established();
    CHECK(g.on_line("CAPA").text.find("STLS") == std::string::npos);
    CHECK(g.on_line("QUIT").then == Then::close);
}

TEST_CASE("ManageSieve greets with capabilities and repeats them after TLS", "[greeter]") {
    Greeter g(Protocol::manage_sieve, true, false, "localhost");
    CHECK(g.greeting().find("\"STARTTLS\"\r\n") != std::string::npos);
    CHECK(g.greeting().ends_with("OK \"berth ManageSieve ready\"\r\n"));
    CHECK(g.on_line("STARTTLS").then == Then::start_tls);
    const auto after = g.on_tls_established();
    CHECK(after.find("\"VERSION\" \"1.0\"") != std::string::npos);
    CHECK(after.find("STARTTLS") == std::string::npos);
    CHECK(g.on_line("LOGOUT").then == Then::close);
}

TEST_CASE("HTTP answers the status page after the request headers", "[greeter]") {
    Greeter g(Protocol::http, false, false, "localhost", "listeners: smtp\n");
    CHECK(g.greeting().empty());
    CHECK(g.on_line("GET / HTTP/1.1").text.empty());
    CHECK(g.on_line("Host: localhost").text.empty());
    const auto r = g.on_line("");
    CHECK(r.text.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(r.text.ends_with("\r\n\r\nlisteners: smtp\n"));
    CHECK(r.then == Then::close);
    CHECK(Greeter(Protocol::http, false, false, "h").on_line("garbage").text.starts_with("HTTP/1.1 400"));
}
