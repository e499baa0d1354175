#pragma once
// The stream a session handler reads and writes: the accepted TCP socket, whose first bytes may come
// from a buffer (what arrived after a PROXY header), with TLS layered on it once a handshake starts
// (implicit TLS, or STARTTLS). Both are AsyncReadStream and AsyncWriteStream models, so Asio's
// composed operations (async_read_until, async_write, ...) work on them with any completion token.

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/context.hpp>

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
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
    /// Takes `socket` over (a closed socket, or a connected one).
    explicit PrefixedStream(Socket&& socket) : socket_(std::move(socket)) {}

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
                const std::size_t n = take_prefix(target);
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

    /// Reads what is there without waiting: buffered bytes first, else one non-blocking receive.
    /// asio::error::would_block when nothing has arrived, asio::error::eof when the peer has closed.
    /// Never completes a handler (see SessionStream::read_some_now).
    template <class MutableBufferSequence>
    std::size_t read_some_now(const MutableBufferSequence& buffers, std::error_code& ec) {
        ec = {};
        if (!prefix_.pending().empty()) return take_prefix(buffers);
        const asio::mutable_buffer target = detail::first_non_empty_buffer<asio::mutable_buffer>(buffers);
        if (target.size() == 0) return 0;
        return transfer_now(ec, [&](int descriptor) { return ::recv(descriptor, target.data(), target.size(), MSG_DONTWAIT); });
    }

    /// Writes what the socket takes without waiting (from the first non-empty buffer), never raising
    /// SIGPIPE. asio::error::would_block when it takes nothing.
    template <class ConstBufferSequence>
    std::size_t write_some_now(const ConstBufferSequence& buffers, std::error_code& ec) {
        ec = {};
        const asio::const_buffer source = detail::first_non_empty_buffer<asio::const_buffer>(buffers);
        if (source.size() == 0) return 0;
        return transfer_now(ec, [&](int descriptor) {
            return ::send(descriptor, source.data(), source.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        });
    }

private:
    /// Moves buffered bytes into `buffers`; how many.
    template <class MutableBufferSequence>
    std::size_t take_prefix(const MutableBufferSequence& buffers) {
        const std::size_t n =
            asio::buffer_copy(buffers, asio::buffer(prefix_.pending().data(), prefix_.pending().size()));
        prefix_.consume(n);
        return n;
    }

    /// One non-blocking system call on the socket: bytes moved, or the error (a receive of 0 is the
    /// end of the stream).
    template <class Call>
    std::size_t transfer_now(std::error_code& ec, Call call) {
        if (!socket_.is_open()) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        for (;;) {
            const ssize_t n = call(socket_.native_handle());
            if (n > 0) return static_cast<std::size_t>(n);
            if (n == 0) {
                ec = asio::error::eof;
                return 0;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) ec = asio::error::would_block;
            else ec = std::error_code(errno, asio::error::get_system_category());
            return 0;
        }
    }

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
    explicit SessionStream(Socket&& socket) : plain_(std::move(socket)) {}
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

    /// Reads what can be read without waiting: buffered bytes, bytes the TLS library holds, or what the
    /// socket has. asio::error::would_block when that is nothing (async_read_some waits instead),
    /// asio::error::eof at the end of the stream, other errors as async_read_some reports them. It never
    /// completes a handler, so a handler woken by async_wait_readable can read and answer in the same
    /// call, without an operation, a buffer kept while waiting, or a trip through the executor's queue.
    template <class MutableBufferSequence>
    std::size_t read_some_now(const MutableBufferSequence& buffers, std::error_code& ec) {
        return tls_ ? tls_->read_some_now(buffers, ec) : plain_.read_some_now(buffers, ec);
    }

    /// Writes what the connection takes without waiting, as read_some_now reads. A reply smaller than
    /// the socket's send buffer usually goes whole; after asio::error::would_block or a partial write,
    /// the rest goes to async_write (the same bytes: TLS asks for a write to be repeated as it was).
    template <class ConstBufferSequence>
    std::size_t write_some_now(const ConstBufferSequence& buffers, std::error_code& ec) {
        return tls_ ? tls_->write_some_now(buffers, ec) : plain_.write_some_now(buffers, ec);
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
