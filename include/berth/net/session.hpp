#pragma once
// What a session handler receives: the connection's stream (plain or TLS, with a STARTTLS upgrade when
// the listener offers it), the effective peer address, the listener, the bytes already buffered, and
// whether the server is shutting down. One session per connection, on its own strand.

#include <openssl/ssl.h>

#include <asio/any_io_executor.hpp>
#include <asio/basic_stream_socket.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "berth/model/resolved_listener.hpp"
#include "berth/model/socket_addr.hpp"
#include "berth/net/accepted_socket.hpp"
#include "berth/net/detail/ref_counted.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/proxy_protocol.hpp"
#include "berth/net/session_stream.hpp"

namespace berth {

namespace detail {

struct SessionAccess;

/// What a session needs from its acceptor, without knowing the acceptor's policy types.
class SessionServices {
public:
    virtual void report(EventKind kind, const SocketAddr& peer, std::error_code error,
                        std::string_view detail) noexcept = 0;
    [[nodiscard]] virtual bool stopping() const noexcept = 0;

protected:
    ~SessionServices() = default;
};

}  // namespace detail

template <class Protocol = asio::ip::tcp>
class BasicSession {
public:
    using protocol_type = Protocol;
    using executor_type = asio::any_io_executor;
    using socket_type = BasicAcceptedSocket<Protocol, executor_type>;
    using stream_type = SessionStream<socket_type>;

    /// `socket` is the session's socket, closed until the acceptor accepts into it.
    BasicSession(socket_type&& socket, const ResolvedListener& listener, asio::ssl::context* tls_context,
                 detail::SessionServices& services, detail::RefCounted& owner)
        : stream_(std::move(socket)), listener_(&listener), tls_context_(tls_context),
          services_(&services), owner_(&owner) {}
    BasicSession(const BasicSession&) = delete;
    BasicSession& operator=(const BasicSession&) = delete;

    /// The stream to read and write (Asio's AsyncReadStream and AsyncWriteStream): buffered bytes
    /// first, then the socket; through TLS once a handshake has been done.
    stream_type& stream() noexcept { return stream_; }
    executor_type get_executor() noexcept { return stream_.get_executor(); }
    /// The TCP socket itself, for socket options and the native handle.
    socket_type& socket() noexcept { return stream_.socket(); }

    /// The client: the PROXY header's source when a trusted proxy sent one, else the TCP peer (an
    /// IPv4 client of a dual-stack socket as a.b.c.d, not ::ffff:a.b.c.d).
    [[nodiscard]] const SocketAddr& peer() const noexcept { return peer_; }
    /// The TCP peer as the kernel reports it (the proxy, when there is one).
    [[nodiscard]] const SocketAddr& tcp_peer() const noexcept { return tcp_peer_; }
    /// The PROXY header a trusted proxy sent; nullptr when there was none.
    [[nodiscard]] const ProxyHeader* proxy_header() const noexcept { return proxy_header_.get(); }
    [[nodiscard]] const ResolvedListener& listener() const noexcept { return *listener_; }

    /// Bytes that arrived with the PROXY header and have not been read yet; reads of stream() return
    /// them first. A handler that takes them from here says so with consume_buffered().
    [[nodiscard]] std::span<const std::uint8_t> buffered() noexcept { return stream_.plain().prefix().pending(); }
    void consume_buffered(std::size_t n) noexcept {
        stream_.plain().prefix().consume(std::min(n, stream_.plain().prefix().pending().size()));
    }

    /// STARTTLS is offered only when the listener has TLS on and not implicit (SPEC §5), once.
    [[nodiscard]] bool starttls_available() const noexcept {
        return listener_->offers_starttls() && tls_context_ != nullptr && !stream_tls_started();
    }
    [[nodiscard]] bool tls_active() const noexcept { return stream_tls_started() && !tls_failed_; }
    /// "TLSv1.3", "TLSv1.2"; empty without TLS.
    [[nodiscard]] std::string_view tls_version() noexcept {
        return tls_active() ? std::string_view(SSL_get_version(stream_.tls()->native_handle())) : std::string_view{};
    }
    /// The negotiated suite in the library's naming ("TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256").
    [[nodiscard]] std::string_view tls_cipher() noexcept {
        if (!tls_active()) return {};
        const SSL_CIPHER* cipher = SSL_get_current_cipher(stream_.tls()->native_handle());
        return cipher ? std::string_view(SSL_CIPHER_get_name(cipher)) : std::string_view{};
    }

    /// True once the server has begun shutting down: a handler between commands can say goodbye.
    [[nodiscard]] bool server_stopping() const noexcept { return services_->stopping(); }

    /// Upgrades the stream with a server TLS handshake within the listener's tlsTimeout. Completion:
    /// `void(std::error_code)`; `NetError::starttls_unavailable` when not offered, `asio::error::timed_out`
    /// at the deadline. A failed handshake closes the connection: it never continues in plaintext.
    template <class Token>
    auto async_starttls(Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(HandshakeOp{this, false}, token, socket());
    }

    /// Ends the connection politely: TLS close_notify (within tlsTimeout) when TLS is active, then
    /// the TCP send side is shut down. Completion: `void(std::error_code)`.
    template <class Token>
    auto async_shutdown(Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(ShutdownOp{this}, token, socket());
    }

    /// Closes the socket at once; pending operations complete with `operation_aborted`.
    void close() noexcept {
        std::error_code ignored;
        socket().close(ignored);
    }

    /// Completes when a read of stream() would find something (see SessionStream::async_wait_readable):
    /// a handler that waits here between requests keeps no read buffer while the client is idle.
    template <class Token>
    auto async_wait_readable(Token&& token) {
        return stream_.async_wait_readable(std::forward<Token>(token));
    }

private:
    friend struct detail::SessionAccess;

    [[nodiscard]] bool stream_tls_started() const noexcept { return stream_.tls_active(); }

    /// Implicit TLS: the handshake right after accept (and the PROXY header), within tlsTimeout.
    template <class Token>
    auto async_implicit_tls(Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(HandshakeOp{this, true}, token, socket());
    }

    /// Starts the deadline of one step (PROXY header, handshake, busy reply): when it passes, the
    /// socket's pending operation is cancelled. The timer's handler keeps the session alive and
    /// ignores a step that has already ended.
    void arm_deadline(std::chrono::milliseconds timeout) {
        ++deadline_step_;
        deadline_expired_ = false;
        if (!deadline_) deadline_ = std::make_unique<asio::steady_timer>(get_executor());
        deadline_->expires_after(timeout);
        deadline_->async_wait([this, step = deadline_step_, keep = detail::Ref<detail::RefCounted>(owner_)](
                                 std::error_code ec) {
            if (ec || step != deadline_step_) return;
            deadline_expired_ = true;
            std::error_code ignored;
            socket().cancel(ignored);
        });
    }
    void arm_deadline(Duration timeout) { arm_deadline(std::chrono::milliseconds(timeout.milliseconds())); }
    /// Ends the current step; true when its deadline had passed.
    bool disarm_deadline() noexcept {
        ++deadline_step_;
        deadline_.reset();  // cancels the wait; an idle connection keeps no timer
        return deadline_expired_;
    }

    void set_peers(const SocketAddr& tcp_peer) {
        tcp_peer_ = tcp_peer;
        peer_ = unmapped_peer(tcp_peer);
    }
    void set_proxy_header(ProxyHeader header) {
        if (header.command == ProxyCommand::proxy && header.source) peer_ = unmapped_peer(*header.source);
        proxy_header_ = std::make_unique<ProxyHeader>(std::move(header));
    }
    static SocketAddr unmapped_peer(const SocketAddr& address) {
        if (auto v4 = address.address().mapped_v4()) return {*v4, address.port()};
        return address;
    }

    struct HandshakeOp {
        BasicSession* session;
        bool implicit;
        enum class Step { start, refused, out_of_memory, handshaking } step = Step::start;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}) {
            switch (step) {
            case Step::start:
                if (implicit ? session->tls_context_ == nullptr || session->stream_tls_started()
                             : !session->starttls_available()) {
                    step = Step::refused;
                    asio::post(session->get_executor(), std::move(self));  // never complete inline
                    return;
                }
                step = Step::handshaking;
                try {
                    session->stream_.begin_tls(*session->tls_context_, implicit ? stream_type::TlsStart::implicit
                                                                                : stream_type::TlsStart::starttls);
                } catch (const std::bad_alloc&) {
                    step = Step::out_of_memory;
                    asio::post(session->get_executor(), std::move(self));
                    return;
                }
                session->arm_deadline(session->listener_->tls_timeout);
                session->stream_.tls()->async_handshake(std::move(self));
                return;
            case Step::refused: self.complete(make_error_code(NetError::starttls_unavailable)); return;
            case Step::out_of_memory:
                ec = std::make_error_code(std::errc::not_enough_memory);
                step = Step::handshaking;
                [[fallthrough]];
            case Step::handshaking:
                if (session->disarm_deadline()) ec = asio::error::timed_out;
                if (ec) {
                    const bool timeout = ec == asio::error::timed_out;
                    session->services_->report(timeout ? EventKind::handshake_timeout : EventKind::tls_error,
                                               session->peer_, ec, implicit ? "implicit TLS" : "STARTTLS");
                    session->tls_failed_ = true;
                    session->close();
                }
                self.complete(ec);
                return;
            }
        }
    };

    struct ShutdownOp {
        BasicSession* session;
        enum class Step { start, closing_tls, finished } step = Step::start;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}) {
            switch (step) {
            case Step::start:
                if (session->tls_active()) {
                    step = Step::closing_tls;
                    session->arm_deadline(session->listener_->tls_timeout);
                    session->stream_.tls()->async_shutdown(std::move(self));
                    return;
                }
                step = Step::finished;
                asio::post(session->get_executor(), std::move(self));
                return;
            case Step::closing_tls:
                if (session->disarm_deadline()) ec = asio::error::timed_out;
                // A peer that closes without its own close_notify has still received ours.
                if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) ec = {};
                [[fallthrough]];
            case Step::finished: {
                std::error_code ignored;
                session->socket().shutdown(socket_type::shutdown_send, ignored);
                self.complete(ec);
                return;
            }
            }
        }
    };

    stream_type stream_;
    // Made when a step with a deadline starts, released when it ends: most of a session's life has none.
    std::unique_ptr<asio::steady_timer> deadline_;
    std::uint32_t deadline_step_ = 0;
    bool deadline_expired_ = false;
    bool tls_failed_ = false;
    const ResolvedListener* listener_;
    asio::ssl::context* tls_context_;
    detail::SessionServices* services_;
    detail::RefCounted* owner_;
    SocketAddr tcp_peer_{IpAddress::v4({0, 0, 0, 0}), 0};
    SocketAddr peer_{IpAddress::v4({0, 0, 0, 0}), 0};
    std::unique_ptr<ProxyHeader> proxy_header_;
};

using Session = BasicSession<asio::ip::tcp>;

namespace detail {

/// The steps of a session's start that only berth's own session start may take.
struct SessionAccess {
    template <class Protocol>
    static void set_peers(BasicSession<Protocol>& session, const SocketAddr& tcp_peer) {
        session.set_peers(tcp_peer);
    }
    template <class Protocol>
    static void set_proxy_header(BasicSession<Protocol>& session, ProxyHeader header) {
        session.set_proxy_header(std::move(header));
    }
    template <class Protocol, class Timeout>
    static void arm_deadline(BasicSession<Protocol>& session, Timeout timeout) {
        session.arm_deadline(timeout);
    }
    template <class Protocol>
    static bool disarm_deadline(BasicSession<Protocol>& session) noexcept {
        return session.disarm_deadline();
    }
    template <class Protocol, class Token>
    static auto async_implicit_tls(BasicSession<Protocol>& session, Token&& token) {
        return session.async_implicit_tls(std::forward<Token>(token));
    }
};

}  // namespace detail

}  // namespace berth
