// A real HAProxy in front of berth, sending PROXY v1 (send-proxy) and v2 (send-proxy-v2): the session
// handler must see the client's address, not HAProxy's.

#include <berth/net/runner.hpp>

#include <asio/write.hpp>

#include "support/catch.hpp"

#include <string>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

constexpr const char* haproxy_path = "/usr/sbin/haproxy";

struct ReportPeer {
    asio::awaitable<void> operator()(Session& session) const {
        const std::string version =
            !session.proxy_header() ? "none" : session.proxy_header()->version == ProxyVersion::v1 ? "v1" : "v2";
        const std::string text = "peer=" + session.peer().address().to_string() + " proxy=" + version + "\r\n";
        co_await asio::async_write(session.stream(), asio::buffer(text), asio::use_awaitable);
    }
};

}  // namespace

TEST_CASE("HAProxy with send-proxy and send-proxy-v2 in front of berth", "[net][haproxy]") {
    if (!executable_exists(haproxy_path)) {
        WARN("HAProxy is not installed at " << haproxy_path << "; test skipped");
        return;
    }
    auto listener = make_listener("behind-haproxy", {"127.0.0.1:0"});
    listener.proxy_trusted_networks = {IpMask::parse("127.0.0.1").value()};
    listener.tls_timeout = Duration::from_milliseconds(2000);
    ServerRunner server({listener});
    server.bind();
    server.start(ReportPeer{});
    const std::uint16_t berth_port = server.local_address("behind-haproxy")->port();

    const std::uint16_t v1_port = free_port();
    const std::uint16_t v2_port = free_port();
    TempDir directory;
    const std::string config = "global\n"
                               "  maxconn 64\n"
                               "defaults\n"
                               "  mode tcp\n"
                               "  timeout connect 2s\n"
                               "  timeout client 5s\n"
                               "  timeout server 5s\n"
                               "frontend via_v1\n"
                               "  bind 127.0.0.1:" + std::to_string(v1_port) + "\n"
                               "  default_backend berth_v1\n"
                               "frontend via_v2\n"
                               "  bind 127.0.0.1:" + std::to_string(v2_port) + "\n"
                               "  default_backend berth_v2\n"
                               "backend berth_v1\n"
                               "  server berth 127.0.0.1:" + std::to_string(berth_port) + " send-proxy\n"
                               "backend berth_v2\n"
                               "  server berth 127.0.0.1:" + std::to_string(berth_port) + " send-proxy-v2\n";
    const std::string config_path = directory.write("haproxy.cfg", config);
    ChildProcess haproxy({haproxy_path, "-db", "-f", config_path});
    // HAProxy is ready when both frontends accept connections.
    REQUIRE(eventually(
        [&] {
            Client probe_v1, probe_v2;
            return probe_v1.connect(addr("127.0.0.1:" + std::to_string(v1_port)), std::nullopt, 200ms) &&
                   probe_v2.connect(addr("127.0.0.1:" + std::to_string(v2_port)), std::nullopt, 200ms);
        },
        5s));

    for (const auto& [port, version] : {std::pair{v1_port, "v1"}, std::pair{v2_port, "v2"}}) {
        INFO("through the " << version << " frontend; HAProxy output: " << haproxy.output());
        Client client;  // from 127.0.0.2: HAProxy itself connects from 127.0.0.1, the trusted address
        REQUIRE(client.connect(addr("127.0.0.1:" + std::to_string(port)), "127.0.0.2"));
        REQUIRE(client.read_until("\r\n", 3s));
        CHECK(client.received() == std::string("peer=127.0.0.2 proxy=") + version + "\r\n");
    }
    server.shutdown(1s);
    haproxy.kill();
}
