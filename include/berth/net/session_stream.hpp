#pragma once
// The stream a session handler reads and writes: the accepted TCP socket, whose first bytes may come
// from a buffer (what arrived after a PROXY header), with TLS layered on it once a handshake starts
// (implicit TLS, or STARTTLS). Both are AsyncReadStream and AsyncWriteStream models, so Asio's
// composed operations (async_read_until, async_write, ...) work on them with any completion token.

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/context.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "berth/net/tls_stream.hpp"

namespace berth {

namespace detail {

/// The bytes read before the session handler runs: the PROXY header while it is being parsed, then
/// whatever followed it. Its storage exists only while it holds bytes (or is being filled), so an idle
/// connection carries none of it.
class PrefixBuffer {
public:
    static constexpr std::size_t capacity = 1024;

    /// Room to read into; empty when the storage cannot be allocated.
    [[nodiscard]] std::span<std::uint8_t> free_space() noexcept {
        if (!data_) data_.reset(new (std::nothrow) std::uint8_t[capacity]);
        if (!data_) return {};
        return {data_.get() + end_, capacity - end_};
    }
    void commit(std::size_t n) noexcept { end_ += n; }
    [[nodiscard]] std::span<const std::uint8_t> pending() const noexcept {
        return data_ ? std::span<const std::uint8_t>(data_.get() + begin_, end_ - begin_)
                     : std::span<const std::uint8_t>{};
    }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) clear();
    }
    void clear() noexcept {
        begin_ = end_ = 0;
        data_.reset();
    }

private:
    std::unique_ptr<std::uint8_t[]> data_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace detail

/// The accepted socket, with the bytes already read (after a PROXY header) served first.
template <class Socket>
class PrefixedStream {
public:
    using executor_type = typename Socket::executor_type;
    using next_layer_type = Socket;
    using lowest_layer_type = typename Socket::lowest_layer_type;

    explicit PrefixedStream(const executor_type& executor) : socket_(executor) {}

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    Socket& next_layer() noexcept { return socket_; }
    lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
    const lowest_layer_type& lowest_layer() const noexcept { return socket_.lowest_layer(); }

    detail::PrefixBuffer& prefix() noexcept { return prefix_; }
    const detail::PrefixBuffer& prefix() const noexcept { return prefix_; }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return asio::async_initiate<ReadToken, void(std::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& target) {
                if (prefix_.pending().empty()) {
                    socket_.async_read_some(target, std::move(handler));
                    return;
                }
                const std::size_t n = asio::buffer_copy(target, asio::buffer(prefix_.pending().data(),
                                                                             prefix_.pending().size()));
                prefix_.consume(n);
                // Never complete inside the initiating call: post to the handler's executor.
                auto executor = asio::get_associated_executor(handler, socket_.get_executor());
                asio::post(executor, [h = std::move(handler), n]() mutable { std::move(h)(std::error_code{}, n); });
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return socket_.async_write_some(buffers, std::forward<WriteToken>(token));
    }

private:
    Socket socket_;
    detail::PrefixBuffer prefix_;
};

/// What the handler uses: plain until a TLS handshake starts, TLS from then on. Not movable (the TLS
/// layer refers to the plain one); it lives in the session.
template <class Socket>
class SessionStream {
public:
    using executor_type = typename Socket::executor_type;
    using plain_stream_type = PrefixedStream<Socket>;
    using tls_stream_type = TlsStream<plain_stream_type>;
    using lowest_layer_type = typename Socket::lowest_layer_type;

    explicit SessionStream(const executor_type& executor) : plain_(executor) {}
    SessionStream(const SessionStream&) = delete;
    SessionStream& operator=(const SessionStream&) = delete;

    executor_type get_executor() noexcept { return plain_.get_executor(); }
    Socket& socket() noexcept { return plain_.next_layer(); }
    lowest_layer_type& lowest_layer() noexcept { return plain_.lowest_layer(); }
    plain_stream_type& plain() noexcept { return plain_; }

    [[nodiscard]] bool tls_active() const noexcept { return tls_.has_value(); }
    /// The TLS layer once a handshake has started; nullptr before.
    tls_stream_type* tls() noexcept { return tls_ ? &*tls_ : nullptr; }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
        return asio::async_initiate<ReadToken, void(std::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& target) {
                if (tls_) tls_->async_read_some(target, std::move(handler));
                else plain_.async_read_some(target, std::move(handler));
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
        return asio::async_initiate<WriteToken, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& source) {
                if (tls_) tls_->async_write_some(source, std::move(handler));
                else plain_.async_write_some(source, std::move(handler));
            },
            token, buffers);
    }

    enum class TlsStart : unsigned char { implicit, starttls };

    /// Layers TLS on the plain stream. For STARTTLS, plaintext still buffered is dropped first: whatever
    /// a client sent before the upgrade must not be read as if it had come through TLS (CVE-2011-0411).
    /// For implicit TLS the buffered bytes are the start of the ClientHello (they arrived with a PROXY
    /// header, SPEC §5 keeps them for the next layer), so the handshake reads them first.
    tls_stream_type& begin_tls(asio::ssl::context& context, TlsStart start) {
        if (start == TlsStart::starttls) plain_.prefix().clear();
        return tls_.emplace(plain_, context.native_handle());
    }

    /// Completes when a read would find something: buffered bytes, decrypted bytes the TLS library
    /// holds, or a readable socket (data, end of stream or an error). A handler that waits here between
    /// requests, and allocates its read buffer only then, keeps no buffer for an idle connection.
    /// Completion: `void(std::error_code)`.
    template <class Token>
    auto async_wait_readable(Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [this](auto handler) {
                if (!plain_.prefix().pending().empty() || (tls_ && tls_->has_pending_data())) {
                    auto executor = asio::get_associated_executor(handler, get_executor());
                    asio::post(executor, [h = std::move(handler)]() mutable { std::move(h)(std::error_code{}); });
                    return;
                }
                socket().async_wait(asio::socket_base::wait_read, std::move(handler));
            },
            token);
    }

private:
    plain_stream_type plain_;
    std::optional<tls_stream_type> tls_;
};

}  // namespace berth
