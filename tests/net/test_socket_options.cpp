#include <berth/net/socket_options.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include "support/catch.hpp"

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

struct AcceptedOptions {
    int no_delay = -1;
    int ttl = -1;
    ::linger linger{};
};

/// A handler that reads the accepted socket's options with raw getsockopt, then answers "ok".
struct ProbeHandler {
    Mailbox<AcceptedOptions>* mailbox;
    asio::awaitable<void> operator()(Session& session) const {
        const int fd = session.socket().native_handle();
        const bool v6 = session.listener().bind.front().address().is_v6();
        mailbox->push({raw_int_option(fd, IPPROTO_TCP, TCP_NODELAY),
                       v6 ? raw_int_option(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS) : raw_int_option(fd, IPPROTO_IP, IP_TTL),
                       raw_linger(fd)});
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("ok\r\n")), asio::use_awaitable);
    }
};

ResolvedListener tuned_listener(std::string_view address) {
    auto listener = make_listener("tuned", {address});
    listener.socket_reuse_address = true;
    listener.socket_reuse_port = true;
    listener.socket_send_buffer_size = 65536;
    listener.socket_receive_buffer_size = 100000;
    listener.socket_tos_v4 = 0x28;
    listener.socket_backlog = 123;
    listener.socket_ttl = 33;
    listener.socket_linger = Duration::from_milliseconds(7000);
    listener.socket_no_delay = true;
    return listener;
}

int default_ttl() {
    std::ifstream in("/proc/sys/net/ipv4/ip_default_ttl");
    int ttl = 64;
    in >> ttl;
    return ttl;
}

/// An acceptor stand-in that records which options are set, in order.
struct RecordingAcceptor {
    std::vector<std::pair<int, int>> calls;
    template <class Option>
    void set_option(const Option& option, std::error_code& ec) {
        calls.emplace_back(option.level(asio::ip::tcp::v4()), option.name(asio::ip::tcp::v4()));
        ec.clear();
    }
};

}  // namespace

TEST_CASE("listening socket options are set before bind, in SPEC order", "[net][socket-options]") {
    RecordingAcceptor recorder;
    const auto listener = tuned_listener("127.0.0.1:0");
    const OptionFailure failure =
        ListenerSocketOptions{}.apply_to_listening(listener, BindPlan{addr("127.0.0.1:25"), std::nullopt, 0}, recorder);
    CHECK_FALSE(failure);
    const std::vector<std::pair<int, int>> expected{{SOL_SOCKET, SO_REUSEADDR},
                                                    {SOL_SOCKET, SO_REUSEPORT},
                                                    {SOL_SOCKET, SO_SNDBUF},
                                                    {SOL_SOCKET, SO_RCVBUF},
                                                    {IPPROTO_IP, IP_TOS}};
    CHECK(recorder.calls == expected);

    RecordingAcceptor recorder6;
    ListenerSocketOptions{}.apply_to_listening(listener, BindPlan{addr("[::1]:25"), true, 0}, recorder6);
    const std::vector<std::pair<int, int>> expected6{{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT},
                                                     {SOL_SOCKET, SO_SNDBUF},    {SOL_SOCKET, SO_RCVBUF},
                                                     {IPPROTO_IPV6, IPV6_TCLASS}, {IPPROTO_IPV6, IPV6_V6ONLY}};
    CHECK(recorder6.calls == expected6);

    RecordingAcceptor minimal;  // unset optional values are left to the OS
    ListenerSocketOptions{}.apply_to_listening(make_listener("plain", {"127.0.0.1:0"}),
                                               BindPlan{addr("127.0.0.1:25"), std::nullopt, 0}, minimal);
    CHECK(minimal.calls == std::vector<std::pair<int, int>>{{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT}});
}

TEST_CASE("IPv4: every option read back raw on the listening and the accepted socket", "[net][socket-options]") {
    Mailbox<AcceptedOptions> accepted;
    ServerRunner server({tuned_listener("127.0.0.1:0")});
    server.bind();
    server.start(ProbeHandler{&accepted});

    const auto sockets = server.listening_sockets();
    REQUIRE(sockets.size() == 1);
    const int fd = sockets.front().native_handle;
    CHECK(raw_int_option(fd, SOL_SOCKET, SO_REUSEADDR) == 1);
    CHECK(raw_int_option(fd, SOL_SOCKET, SO_REUSEPORT) == 1);
    CHECK(raw_int_option(fd, SOL_SOCKET, SO_SNDBUF) == 2 * 65536);  // Linux doubles what was set
    CHECK(raw_int_option(fd, SOL_SOCKET, SO_RCVBUF) == 2 * 100000);
    CHECK(raw_int_option(fd, IPPROTO_IP, IP_TOS) == 0x28);
    CHECK(listen_backlog(sockets.front().local.port()) == std::optional<std::uint32_t>(123));

    Client client;
    REQUIRE(client.connect(sockets.front().local));
    REQUIRE(client.read_until("ok\r\n"));
    const auto options = accepted.pop();
    REQUIRE(options);
    CHECK(options->no_delay == 1);
    CHECK(options->ttl == 33);
    CHECK(options->linger.l_onoff == 1);
    CHECK(options->linger.l_linger == 7);
    server.shutdown(1s);
}

TEST_CASE("IPv4: options turned off are off, unset ones are the OS defaults", "[net][socket-options]") {
    auto listener = make_listener("plain", {"127.0.0.1:0"});
    listener.socket_reuse_address = false;
    listener.socket_reuse_port = false;
    listener.socket_no_delay = false;
    listener.socket_backlog = 17;
    Mailbox<AcceptedOptions> accepted;
    ServerRunner server({listener});
    server.bind();
    server.start(ProbeHandler{&accepted});

    const auto socket = server.listening_sockets().at(0);
    CHECK(raw_int_option(socket.native_handle, SOL_SOCKET, SO_REUSEADDR) == 0);
    CHECK(raw_int_option(socket.native_handle, SOL_SOCKET, SO_REUSEPORT) == 0);
    CHECK(raw_int_option(socket.native_handle, IPPROTO_IP, IP_TOS) == 0);
    CHECK(listen_backlog(socket.local.port()) == std::optional<std::uint32_t>(17));

    Client client;
    REQUIRE(client.connect(socket.local));
    REQUIRE(client.read_until("ok\r\n"));
    const auto options = accepted.pop();
    REQUIRE(options);
    CHECK(options->no_delay == 0);
    CHECK(options->ttl == default_ttl());
    CHECK(options->linger.l_onoff == 0);
    server.shutdown(1s);
}

TEST_CASE("IPv6: IPV6_TCLASS, IPV6_V6ONLY for a specific address, IPV6_UNICAST_HOPS", "[net][socket-options]") {
    Mailbox<AcceptedOptions> accepted;
    ServerRunner server({tuned_listener("[::1]:0")});
    server.bind();
    server.start(ProbeHandler{&accepted});

    const auto socket = server.listening_sockets().at(0);
    CHECK(raw_int_option(socket.native_handle, IPPROTO_IPV6, IPV6_TCLASS) == 0x28);
    CHECK(raw_int_option(socket.native_handle, IPPROTO_IPV6, IPV6_V6ONLY) == 1);
    CHECK(raw_int_option(socket.native_handle, SOL_SOCKET, SO_SNDBUF) == 2 * 65536);
    CHECK(listen_backlog(socket.local.port(), AF_INET6) == std::optional<std::uint32_t>(123));

    Client client;
    REQUIRE(client.connect(socket.local));
    REQUIRE(client.read_until("ok\r\n"));
    const auto options = accepted.pop();
    REQUIRE(options);
    CHECK(options->ttl == 33);
    CHECK(options->no_delay == 1);
    server.shutdown(1s);
}

TEST_CASE("the dual-stack rule decides IPV6_V6ONLY", "[net][socket-options]") {
    auto v6_only = [](std::string_view address, std::vector<std::vector<std::string_view>> listeners) {
        std::vector<ResolvedListener> resolved;
        for (auto& binds : listeners) resolved.push_back(make_listener("l" + std::to_string(resolved.size()), binds));
        return dual_stack_v6_only(addr(address), resolved);
    };
    CHECK(v6_only("[::]:25", {{"[::]:25"}}) == std::optional<bool>(false));
    CHECK(v6_only("[::]:25", {{"[::]:25"}, {"0.0.0.0:25"}}) == std::optional<bool>(true));
    CHECK(v6_only("[::]:25", {{"[::]:25", "0.0.0.0:25"}}) == std::optional<bool>(true));
    CHECK(v6_only("[::]:25", {{"[::]:25"}, {"0.0.0.0:26"}}) == std::optional<bool>(false));
    CHECK(v6_only("[::]:25", {{"[::]:25"}, {"127.0.0.1:25"}}) == std::optional<bool>(false));
    CHECK(v6_only("[::1]:25", {{"[::1]:25"}}) == std::optional<bool>(true));
    CHECK(v6_only("[2001:db8::1]:25", {{"[2001:db8::1]:25"}, {"0.0.0.0:25"}}) == std::optional<bool>(true));
    CHECK_FALSE(v6_only("127.0.0.1:25", {{"127.0.0.1:25"}}));
}

TEST_CASE("a dual-stack socket gets IPV6_V6ONLY 0 and IP_TOS for its IPv4 traffic", "[net][socket-options]") {
    // The policy is applied to an open, unbound IPv6 socket: nothing listens on a wildcard address.
    asio::io_context io;
    auto listener = tuned_listener("[::]:0");
    for (bool v6_only : {false, true}) {
        asio::ip::tcp::acceptor acceptor(io);
        acceptor.open(asio::ip::tcp::v6());
        const OptionFailure failure =
            ListenerSocketOptions{}.apply_to_listening(listener, BindPlan{addr("[::]:25"), v6_only, 0}, acceptor);
        REQUIRE_FALSE(failure);
        const int fd = acceptor.native_handle();
        CHECK(raw_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY) == (v6_only ? 1 : 0));
        CHECK(raw_int_option(fd, IPPROTO_IPV6, IPV6_TCLASS) == 0x28);
        CHECK(raw_int_option(fd, IPPROTO_IP, IP_TOS) == (v6_only ? 0 : 0x28));
    }
}

TEST_CASE("the accepted-socket policy sets IP_TTL too for an IPv4 peer of a dual-stack socket", "[net][socket-options]") {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.open(asio::ip::tcp::v6());
    auto listener = tuned_listener("[::]:0");
    const OptionFailure failure = ListenerSocketOptions{}.apply_to_accepted(
        listener, AcceptedSocket{addr("[::ffff:127.0.0.1]:4000"), true}, socket);
    REQUIRE_FALSE(failure);
    CHECK(raw_int_option(socket.native_handle(), IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 33);
    CHECK(raw_int_option(socket.native_handle(), IPPROTO_IP, IP_TTL) == 33);
    CHECK(raw_linger(socket.native_handle()).l_linger == 7);
}
