#include <berth/net/proxy_reader.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <memory>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

struct RecordedEvent {
    EventKind kind;
    std::error_code error;
    std::string detail;
};

/// An event hook that keeps the events the test cares about.
struct RecordingEvents {
    std::shared_ptr<Mailbox<RecordedEvent>> events = std::make_shared<Mailbox<RecordedEvent>>();
    void on_event(const Event& event) const {
        if (event.kind != EventKind::accepted) events->push({event.kind, event.error, std::string(event.detail)});
    }
};

/// Tells the client who it is, then echoes the first line it reads.
struct EchoPeer {
    asio::awaitable<void> operator()(Session& session) const {
        std::string version = "none";
        if (session.proxy_header())
            version = session.proxy_header()->version == ProxyVersion::v1 ? "v1" : "v2";
        std::string greeting = "peer=" + session.peer().to_string() + " tcp=" + session.tcp_peer().to_string() +
                               " proxy=" + version + " buffered=" + std::to_string(session.buffered().size()) + "\r\n";
        co_await asio::async_write(session.stream(), asio::buffer(greeting), asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line), "\r\n", asio::use_awaitable);
        co_await asio::async_write(session.stream(), asio::buffer("line=" + line), asio::use_awaitable);
    }
};

template <class PolicyBundle = Policies<>::with_events<RecordingEvents>>
struct ProxiedServer {
    explicit ProxiedServer(std::uint32_t max_connections = 16, PolicyBundle policies = {})
        : server({configure(max_connections)}, RunnerOptions{}, policies) {
        server.bind();
        server.start(EchoPeer{});
        endpoint = *server.local_address("proxied");
    }
    static ResolvedListener configure(std::uint32_t max_connections) {
        auto listener = make_listener("proxied", {"127.0.0.1:0"});
        listener.proxy_trusted_networks = {IpMask::parse("127.0.0.1").value()};
        listener.tls_timeout = Duration::from_milliseconds(400);
        listener.max_connections = max_connections;
        return listener;
    }
    Mailbox<RecordedEvent>& events() { return *server.policies().events.events; }
    /// The next event that is not `accepted`.
    std::optional<RecordedEvent> next_event() { return events().pop(3s); }

    BasicServerRunner<asio::ip::tcp, PolicyBundle> server;
    SocketAddr endpoint{IpAddress::v4({0, 0, 0, 0}), 0};
};

std::string v2_header(std::uint8_t command, std::uint8_t family, const std::vector<std::uint8_t>& payload) {
    std::string out(reinterpret_cast<const char*>(proxy_v2_signature.data()), proxy_v2_signature.size());
    out.push_back(static_cast<char>(0x20 | command));
    out.push_back(static_cast<char>(family));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
    out.append(payload.begin(), payload.end());
    return out;
}

std::vector<std::uint8_t> inet(std::array<std::uint8_t, 4> source, std::uint16_t port) {
    std::vector<std::uint8_t> out(source.begin(), source.end());
    out.insert(out.end(), {127, 0, 0, 1});
    out.insert(out.end(), {static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xFF), 0, 25});
    return out;
}

}  // namespace

TEST_CASE("PROXY v1 TCP4 from a trusted peer: the header's source is the peer, the bytes after it are kept",
          "[net][proxy-reader]") {
    ProxiedServer fixture;
    Client client;
    REQUIRE(client.connect(fixture.endpoint));
    REQUIRE(client.send("PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\nHELLO there\r\n"));
    REQUIRE(client.read_until("line=HELLO there\r\n"));
    CHECK(client.received().starts_with("peer=192.0.2.7:40000 tcp=127.0.0.1:" + std::to_string(client.local_port()) +
                                        " proxy=v1 buffered=13\r\n"));
}

TEST_CASE("PROXY v1 TCP6 and UNKNOWN", "[net][proxy-reader]") {
    ProxiedServer fixture;
    Client v6;
    REQUIRE(v6.connect(fixture.endpoint));
    REQUIRE(v6.send("PROXY TCP6 2001:db8::7 2001:db8::1 40001 25\r\nX\r\n"));
    REQUIRE(v6.read_until("line=X\r\n"));
    CHECK(v6.received().starts_with("peer=[2001:db8::7]:40001 "));

    Client unknown;
    REQUIRE(unknown.connect(fixture.endpoint));
    REQUIRE(unknown.send("PROXY UNKNOWN\r\nY\r\n"));
    REQUIRE(unknown.read_until("line=Y\r\n"));
    CHECK(unknown.received().starts_with("peer=127.0.0.1:" + std::to_string(unknown.local_port()) + " "));
    CHECK(unknown.received().find(" proxy=v1 ") != std::string::npos);
}

TEST_CASE("PROXY v2 PROXY with TLVs, and LOCAL", "[net][proxy-reader]") {
    ProxiedServer fixture;
    auto payload = inet({198, 51, 100, 9}, 50000);
    payload.insert(payload.end(), {0x02, 0x00, 0x02, 'm', 'x', 0x04, 0x00, 0x00});  // AUTHORITY "mx", NOOP
    Client client;
    REQUIRE(client.connect(fixture.endpoint));
    REQUIRE(client.send(v2_header(0x1, 0x11, payload) + "Z\r\n"));
    REQUIRE(client.read_until("line=Z\r\n"));
    CHECK(client.received().starts_with("peer=198.51.100.9:50000 "));
    CHECK(client.received().find(" proxy=v2 buffered=3\r\n") != std::string::npos);

    Client local;
    REQUIRE(local.connect(fixture.endpoint));
    REQUIRE(local.send(v2_header(0x0, 0x00, {}) + "L\r\n"));
    REQUIRE(local.read_until("line=L\r\n"));
    CHECK(local.received().starts_with("peer=127.0.0.1:" + std::to_string(local.local_port()) + " "));
}

TEST_CASE("a PROXY header split across segments", "[net][proxy-reader]") {
    ProxiedServer fixture;
    for (const std::string& header :
         {std::string("PROXY TCP4 192.0.2.8 127.0.0.1 40002 25\r\n"), v2_header(0x1, 0x11, inet({192, 0, 2, 9}, 40003))}) {
        Client client;
        REQUIRE(client.connect(fixture.endpoint));
        for (std::size_t at = 0; at < header.size(); at += 5) {
            REQUIRE(client.send(std::string_view(header).substr(at, 5)));
            std::this_thread::sleep_for(3ms);
        }
        // The line after the header must come in a read of its own for the server to have buffered nothing
        // with the header: give a slow build (TSan on a busy machine) time to take the last segment alone.
        std::this_thread::sleep_for(50ms);
        REQUIRE(client.send("after\r\n"));
        REQUIRE(client.read_until("line=after\r\n"));
        CHECK(client.received().starts_with("peer=192.0.2."));
        CHECK(client.received().find(" buffered=0\r\n") != std::string::npos);
    }
}

TEST_CASE("truncated, garbage and oversized headers close the connection, nothing written", "[net][proxy-reader]") {
    ProxiedServer fixture;

    Client truncated;
    REQUIRE(truncated.connect(fixture.endpoint));
    REQUIRE(truncated.send("PROXY TCP4 192.0.2"));
    ::shutdown(truncated.fd(), SHUT_WR);
    CHECK(truncated.read_until_closed(2s));
    CHECK(truncated.received().empty());
    auto event = fixture.next_event();
    REQUIRE(event);
    CHECK(event->kind == EventKind::proxy_error);
    CHECK(event->error == NetError::proxy_header_truncated);

    Client garbage;
    REQUIRE(garbage.connect(fixture.endpoint));
    REQUIRE(garbage.send("EHLO client.example\r\n"));
    CHECK(garbage.read_until_closed(2s));
    CHECK(garbage.received().empty());
    event = fixture.next_event();
    REQUIRE(event);
    CHECK(event->error == NetError::proxy_header_invalid);
    CHECK(event->detail == describe(ProxyError::not_a_proxy_header));

    Client oversized;
    REQUIRE(oversized.connect(fixture.endpoint));
    std::string header = v2_header(0x1, 0x11, {});
    header[14] = 0x10;  // announces 4096 bytes
    const auto sent = Clock::now();
    REQUIRE(oversized.send(header));
    CHECK(oversized.read_until_closed(2s));
    CHECK(Clock::now() - sent < 300ms);  // refused at once, not at the deadline
    event = fixture.next_event();
    REQUIRE(event);
    CHECK(event->detail == describe(ProxyError::v2_header_too_large));

    CHECK(fixture.server.stats("proxied").proxy_errors == 3);
    CHECK(fixture.server.stats("proxied").sessions_started == 0);
}

TEST_CASE("a silent trusted peer is cut at the deadline (tlsTimeout)", "[net][proxy-reader]") {
    ProxiedServer fixture;
    Client silent;
    const auto start = Clock::now();
    REQUIRE(silent.connect(fixture.endpoint));
    CHECK(silent.read_until_closed(3s));
    const auto elapsed = Clock::now() - start;
    CHECK(elapsed >= 350ms);
    CHECK(elapsed < 1500ms);
    const auto event = fixture.next_event();
    REQUIRE(event);
    CHECK(event->kind == EventKind::proxy_error);
    CHECK(event->error == std::errc::timed_out);
}

TEST_CASE("an untrusted peer's bytes are never read as a PROXY header", "[net][proxy-reader]") {
    ProxiedServer fixture;
    Client untrusted;
    REQUIRE(untrusted.connect(fixture.endpoint, "127.0.0.2"));
    REQUIRE(untrusted.send("PROXY TCP4 192.0.2.66 127.0.0.1 1234 25\r\n"));
    REQUIRE(untrusted.read_until("line=PROXY TCP4 192.0.2.66 127.0.0.1 1234 25\r\n"));
    CHECK(untrusted.received().starts_with("peer=127.0.0.2:" + std::to_string(untrusted.local_port()) +
                                           " tcp=127.0.0.2:" + std::to_string(untrusted.local_port()) +
                                           " proxy=none buffered=0\r\n"));
}

TEST_CASE("the permit is taken after the PROXY header", "[net][proxy-reader]") {
    ProxiedServer fixture(1);
    Client waiting_for_header;  // trusted, holds no permit while its header is pending
    REQUIRE(waiting_for_header.connect(fixture.endpoint));
    std::this_thread::sleep_for(50ms);
    Client direct;
    REQUIRE(direct.connect(fixture.endpoint, "127.0.0.2"));
    REQUIRE(direct.read_until("proxy=none"));
    CHECK(fixture.server.connections("proxied").live() == 1);
    // Now the listener is full: the pending header completes, and that connection is refused.
    REQUIRE(waiting_for_header.send("PROXY TCP4 192.0.2.1 127.0.0.1 1 25\r\n"));
    CHECK(waiting_for_header.read_until_closed(2s));
    CHECK(waiting_for_header.received().empty());
    CHECK(fixture.server.stats("proxied").refused_over_limit == 1);
}

TEST_CASE("a PROXY policy that refuses a version, and one that reads no header at all", "[net][proxy-reader]") {
    using V2Only = Policies<>::with_events<RecordingEvents>::with_proxy_protocol<ProxyV2Only>;
    ProxiedServer<V2Only> fixture;
    Client client;
    REQUIRE(client.connect(fixture.endpoint));
    REQUIRE(client.send("PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n"));
    CHECK(client.read_until_closed(2s));
    CHECK(client.received().empty());
    const auto event = fixture.next_event();
    REQUIRE(event);
    CHECK(event->detail == "PROXY v1 is not accepted");

    BasicServerRunner<asio::ip::tcp, Policies<>::with_proxy_protocol<NoProxyProtocol>> refusing(
        {ProxiedServer<>::configure(4)});
    std::error_code ec;
    refusing.bind(ec);
    CHECK(ec == NetError::startup_failed);
    REQUIRE(refusing.startup_failures().size() == 1);
    CHECK(refusing.startup_failures().front().error == NetError::proxy_protocol_unavailable);
}
