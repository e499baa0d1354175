#include <berth/net/policies.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <asio/write.hpp>

#include "support/catch.hpp"

#include <optional>
#include <string_view>
#include <type_traits>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace archetype {

// The least each policy concept asks for. A server built from these must compile and serve.

struct SocketOptions {
    template <class Acceptor>
    OptionFailure apply_to_listening(const ResolvedListener&, const BindPlan&, Acceptor&) const {
        return {};
    }
    template <class Socket>
    OptionFailure apply_to_accepted(const ResolvedListener&, const AcceptedSocket&, Socket&) const {
        return {};
    }
    int backlog(const ResolvedListener&) const { return 8; }
};

struct ConnectionLimit {
    struct permit_type {
        permit_type() = default;
        permit_type(permit_type&&) = default;
        permit_type& operator=(permit_type&&) = default;
    };
    std::optional<permit_type> try_acquire(ConnectionCounter&) const { return permit_type{}; }
};

struct Overload {
    static constexpr bool waits_for_permit = false;
    std::string_view busy_reply(const ResolvedListener&) const { return {}; }
};

struct ProxyProtocol {
    bool accepts(ProxyVersion) const { return false; }
    ProxyLimits limits() const { return {}; }
};

struct Tls {
    std::optional<asio::ssl::context> make_context(const ResolvedListener&, TlsContextFailure&) const {
        return std::nullopt;
    }
};

struct AcceptErrors {
    AcceptErrorAction classify(std::error_code) const { return AcceptErrorAction::back_off; }
    std::chrono::milliseconds next_backoff(std::chrono::milliseconds) const { return std::chrono::milliseconds(1); }
    std::chrono::milliseconds report_interval() const { return std::chrono::milliseconds(1000); }
};

struct Events {
    void on_event(const Event&) {}
};

using Bundle = Policies<SocketOptions, ConnectionLimit, Overload, ProxyProtocol, Tls, AcceptErrors, Events>;

}  // namespace archetype

struct NotAPolicy {};

using TcpAcceptor = asio::basic_socket_acceptor<asio::ip::tcp, asio::any_io_executor>;
using TcpSocket = Session::socket_type;

TEST_CASE("the archetypes model the policy concepts, and the defaults do too", "[net][policies]") {
    STATIC_REQUIRE(SocketOptionPolicy<archetype::SocketOptions, TcpAcceptor, TcpSocket>);
    STATIC_REQUIRE(ConnectionLimitPolicy<archetype::ConnectionLimit>);
    STATIC_REQUIRE(OverloadPolicy<archetype::Overload>);
    STATIC_REQUIRE(ProxyProtocolPolicy<archetype::ProxyProtocol>);
    STATIC_REQUIRE(TlsPolicy<archetype::Tls>);
    STATIC_REQUIRE(AcceptErrorPolicy<archetype::AcceptErrors>);
    STATIC_REQUIRE(EventHook<archetype::Events>);

    STATIC_REQUIRE(SocketOptionPolicy<ListenerSocketOptions, TcpAcceptor, TcpSocket>);
    STATIC_REQUIRE(ConnectionLimitPolicy<PerListenerLimit>);
    STATIC_REQUIRE(ConnectionLimitPolicy<GlobalConnectionCap>);
    STATIC_REQUIRE(OverloadPolicy<CloseWhenFull>);
    STATIC_REQUIRE(OverloadPolicy<Backpressure>);
    STATIC_REQUIRE(OverloadPolicy<BusyReply>);
    STATIC_REQUIRE(ProxyProtocolPolicy<ProxyV1AndV2>);
    STATIC_REQUIRE(ProxyProtocolPolicy<ProxyV1Only>);
    STATIC_REQUIRE(ProxyProtocolPolicy<ProxyV2Only>);
    STATIC_REQUIRE(ProxyProtocolPolicy<NoProxyProtocol>);
    STATIC_REQUIRE(TlsPolicy<PlaintextOnly>);
    STATIC_REQUIRE(TlsPolicy<LibraryTls<PemCertificate>>);
    STATIC_REQUIRE(CertificateSource<PemCertificate>);
    STATIC_REQUIRE(AcceptErrorPolicy<DefaultAcceptErrors>);
    STATIC_REQUIRE(EventHook<NoEvents>);

    STATIC_REQUIRE_FALSE(SocketOptionPolicy<NotAPolicy, TcpAcceptor, TcpSocket>);
    STATIC_REQUIRE_FALSE(ConnectionLimitPolicy<NotAPolicy>);
    STATIC_REQUIRE_FALSE(OverloadPolicy<NotAPolicy>);
    STATIC_REQUIRE_FALSE(ProxyProtocolPolicy<NotAPolicy>);
    STATIC_REQUIRE_FALSE(TlsPolicy<NotAPolicy>);
    STATIC_REQUIRE_FALSE(AcceptErrorPolicy<NotAPolicy>);
    STATIC_REQUIRE_FALSE(EventHook<NotAPolicy>);
    STATIC_REQUIRE_FALSE(CertificateSource<NotAPolicy>);
}

TEST_CASE("a connection limit whose permit can be copied is not a connection-limit policy", "[net][policies]") {
    struct CopyablePermitLimit {
        struct permit_type {};
        std::optional<permit_type> try_acquire(ConnectionCounter&) const { return permit_type{}; }
    };
    STATIC_REQUIRE_FALSE(ConnectionLimitPolicy<CopyablePermitLimit>);
}

TEST_CASE("empty policies take no space in the bundle", "[net][policies]") {
    STATIC_REQUIRE(std::is_empty_v<archetype::Bundle>);
    STATIC_REQUIRE(sizeof(Policies<>::with_tls<PlaintextOnly>) <= sizeof(DefaultAcceptErrors) + sizeof(void*));
}

TEST_CASE("with_* replaces exactly one policy", "[net][policies]") {
    using Changed = Policies<>::with_overload<BusyReply>::with_proxy_protocol<ProxyV2Only>;
    STATIC_REQUIRE(std::is_same_v<Changed::overload_type, BusyReply>);
    STATIC_REQUIRE(std::is_same_v<Changed::proxy_protocol_type, ProxyV2Only>);
    STATIC_REQUIRE(std::is_same_v<Changed::socket_options_type, ListenerSocketOptions>);
    STATIC_REQUIRE(std::is_same_v<Changed::connection_limit_type, PerListenerLimit>);
    STATIC_REQUIRE(std::is_same_v<Changed::tls_type, LibraryTls<>>);
    STATIC_REQUIRE(std::is_same_v<Changed::accept_errors_type, DefaultAcceptErrors>);
    STATIC_REQUIRE(std::is_same_v<Changed::events_type, NoEvents>);
}

TEST_CASE("a server made of archetype policies serves a connection", "[net][policies]") {
    BasicServerRunner<asio::ip::tcp, archetype::Bundle> server(
        {make_listener("minimal", {"127.0.0.1:0"})});
    server.bind();
    server.start([](Session& session) -> asio::awaitable<void> {
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("minimal\r\n")), asio::use_awaitable);
    });
    Client client;
    REQUIRE(client.connect(*server.local_address("minimal")));
    CHECK(client.read_until("minimal\r\n"));
    CHECK(listen_backlog(server.local_address("minimal")->port()) == std::optional<std::uint32_t>(8));
    server.shutdown(1s);
}

namespace {

/// A session handler written as an Asio initiating function: any completion token.
struct TokenHandler {
    template <class Token>
    auto operator()(Session& session, Token&& token) const {
        return asio::async_initiate<Token, void(std::error_code)>(
            [&session](auto done) {
                asio::async_write(session.stream(), asio::buffer(std::string_view("token\r\n")),
                                  [done = std::move(done)](std::error_code ec, std::size_t) mutable {
                                      std::move(done)(ec);
                                  });
            },
            token);
    }
};

/// A callback handler: finishes by calling its completion once.
struct CallbackHandler {
    template <class Done>
    void operator()(Session& session, Done done) const {
        asio::async_write(session.stream(), asio::buffer(std::string_view("callback\r\n")),
                          [done = std::move(done)](std::error_code ec, std::size_t) mutable { std::move(done)(ec); });
    }
};

/// A handler that only takes asio::use_awaitable.
struct AwaitableOperationHandler {
    asio::awaitable<void> operator()(Session& session, asio::use_awaitable_t<>) const {
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("operation\r\n")),
                                   asio::use_awaitable);
    }
};

}  // namespace

TEST_CASE("session handlers: a coroutine, a callback, an Asio initiating function, an awaitable operation", "[net][policies]") {
    auto coroutine = [](Session& session) -> asio::awaitable<void> {
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("coroutine\r\n")),
                                   asio::use_awaitable);
    };
    STATIC_REQUIRE(CoroutineSessionHandler<decltype(coroutine), Session>);
    STATIC_REQUIRE(CallbackSessionHandler<CallbackHandler, Session>);
    STATIC_REQUIRE(CallbackSessionHandler<TokenHandler, Session>);
    STATIC_REQUIRE(SessionHandler<TokenHandler, Session>);
    STATIC_REQUIRE(AwaitableOperationSessionHandler<AwaitableOperationHandler, Session>);
    STATIC_REQUIRE_FALSE(CallbackSessionHandler<AwaitableOperationHandler, Session>);
    STATIC_REQUIRE_FALSE(SessionHandler<NotAPolicy, Session>);

    auto serve = [](auto handler, std::string_view expected) {
        ServerRunner server({make_listener("shape", {"127.0.0.1:0"})});
        server.bind();
        server.start(std::move(handler));
        Client client;
        REQUIRE(client.connect(*server.local_address("shape")));
        CHECK(client.read_until(expected));
        CHECK(eventually([&] { return server.stats("shape").sessions_finished == 1; }));
        server.shutdown(1s);
        CHECK(server.stats("shape").session_errors == 0);
    };
    serve(coroutine, "coroutine\r\n");
    serve(CallbackHandler{}, "callback\r\n");
    serve(TokenHandler{}, "token\r\n");
    serve(AwaitableOperationHandler{}, "operation\r\n");
}
