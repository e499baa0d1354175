#pragma once
// TLS on a session's socket, driven directly through the TLS library's SSL object. The library reads
// and writes the socket itself, through a small BIO that serves the bytes already buffered after a
// PROXY header first; the stream waits for socket readiness with Asio and retries. Nothing is
// buffered here: an idle connection costs what the SSL object costs (BoringSSL frees its record
// buffers whenever they are empty; OpenSSL does with SSL_MODE_RELEASE_BUFFERS), where
// asio::ssl::stream keeps about 67 KB of BIO pair and staging buffers per connection for its life.
//
// The stream is an AsyncReadStream and AsyncWriteStream, with async_handshake (server side only) and
// async_shutdown. Errors are those asio::ssl::stream reports: asio::error::eof for the peer's
// close_notify, asio::ssl::error::stream_truncated for a close without one, the socket's error code
// for a transport failure, the library's packed error in asio::error::get_ssl_category() otherwise.
// Like asio::ssl::stream, one read and one write may be outstanding at once, from one strand.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>
#include <sys/types.h>

#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/error.hpp>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <system_error>
#include <utility>

namespace berth {

namespace detail {

/// The first non-empty buffer of a sequence (an empty one when there is none): what one non-blocking
/// system call, or one call into the TLS library, moves.
template <class Buffer, class Buffers>
Buffer first_non_empty_buffer(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
        if (Buffer buffer(*it); buffer.size() != 0) return buffer;
    return Buffer{};
}

}  // namespace detail

/// A server-side TLS stream over `Next`, a PrefixedStream (the socket plus the bytes already read).
/// Not movable: the SSL object's BIO refers to it.
template <class Next>
class TlsStream {
public:
    using executor_type = typename Next::executor_type;
    using next_layer_type = Next;

    /// Throws std::bad_alloc when the library cannot make the SSL object.
    TlsStream(Next& next, SSL_CTX* context) : next_(&next), ssl_(SSL_new(context)) {
        if (!ssl_) throw std::bad_alloc();
        BIO* bio = BIO_new(bio_method());
        if (!bio) throw std::bad_alloc();
        BIO_set_data(bio, this);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl_.get(), bio, bio);  // one reference, owned by the SSL object
        SSL_set_mode(ssl_.get(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
        SSL_set_accept_state(ssl_.get());
    }
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    [[nodiscard]] SSL* native_handle() const noexcept { return ssl_.get(); }
    executor_type get_executor() noexcept { return next_->get_executor(); }
    Next& next_layer() noexcept { return *next_; }

    /// Decrypted bytes the library holds that a read returns without waiting.
    [[nodiscard]] bool has_pending_data() const noexcept { return SSL_pending(ssl_.get()) > 0; }

    /// The server handshake. Completion: `void(std::error_code)`.
    template <class Token>
    auto async_handshake(Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(
            Operation<Handshake, false>{this, {}}, token, next_->next_layer());
    }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        const auto first = detail::first_non_empty_buffer<asio::mutable_buffer>(buffers);
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            Operation<Read, true>{this, Read{first}}, token, next_->next_layer());
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        const auto first = detail::first_non_empty_buffer<asio::const_buffer>(buffers);
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            Operation<Write, true>{this, Write{first}}, token, next_->next_layer());
    }

    /// Reads what can be read without waiting, into the first non-empty buffer: decrypted bytes the
    /// library holds, or records the socket has. asio::error::would_block when that is nothing yet
    /// (async_read_some then waits); other errors as async_read_some reports them. Never completes a
    /// handler, so a handler may call it and go on in the same call.
    template <class MutableBufferSequence>
    std::size_t read_some_now(const MutableBufferSequence& buffers, std::error_code& ec) {
        return now(Read{detail::first_non_empty_buffer<asio::mutable_buffer>(buffers)}, ec);
    }

    /// Writes what can be written without waiting, from the first non-empty buffer, as read_some_now
    /// does. After asio::error::would_block, the same bytes go to async_write_some (the library asks
    /// for a write to be repeated with the same data).
    template <class ConstBufferSequence>
    std::size_t write_some_now(const ConstBufferSequence& buffers, std::error_code& ec) {
        return now(Write{detail::first_non_empty_buffer<asio::const_buffer>(buffers)}, ec);
    }

    /// Sends close_notify (and flushes it); does not wait for the peer's. Completion: `void(std::error_code)`.
    template <class Token>
    auto async_shutdown(Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(
            Operation<Shutdown, false>{this, {}}, token, next_->next_layer());
    }

private:
    struct SslFree {
        void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
    };

    /// What one call into the library asks for next.
    enum class Want : unsigned char { done, read, write };
    struct Attempt {
        Want want = Want::done;
        std::error_code error;
        std::size_t bytes = 0;
    };

    static int clamp(std::size_t n) noexcept { return n > INT_MAX ? INT_MAX : static_cast<int>(n); }

    /// Turns the result of an SSL_* call into what to do next.
    Attempt outcome(int result) noexcept {
        const int reason = SSL_get_error(ssl_.get(), result);
        switch (reason) {
        case SSL_ERROR_NONE: return {Want::done, {}, result > 0 ? static_cast<std::size_t>(result) : 0};
        case SSL_ERROR_WANT_READ: return {Want::read, {}, 0};
        case SSL_ERROR_WANT_WRITE: return {Want::write, {}, 0};
        case SSL_ERROR_ZERO_RETURN: return {Want::done, asio::error::eof, 0};
        case SSL_ERROR_SYSCALL:
            if (const unsigned long packed = ERR_get_error()) return {Want::done, library_error(packed), 0};
            if (transport_errno_ != 0) return {Want::done, std::error_code(transport_errno_, std::system_category()), 0};
            return {Want::done, asio::ssl::error::stream_truncated, 0};
        default: {
            const unsigned long packed = ERR_get_error();
            return {Want::done, packed ? library_error(packed) : std::make_error_code(std::errc::protocol_error), 0};
        }
        }
    }

    static std::error_code library_error(unsigned long packed) noexcept {
#if defined(SSL_R_UNEXPECTED_EOF_WHILE_READING)
        // OpenSSL 3 reports a close without close_notify this way; asio::ssl::stream calls it truncation.
        if (ERR_GET_LIB(packed) == ERR_LIB_SSL && ERR_GET_REASON(packed) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return asio::ssl::error::stream_truncated;
#endif
        return {static_cast<int>(packed), asio::error::get_ssl_category()};
    }

    /// outcome() reads the library's error queue and the errno the BIO saw: both must be this call's alone.
    void begin_call() noexcept {
        ERR_clear_error();
        transport_errno_ = 0;
    }

    Attempt call(int (*function)(SSL*, void*, int), void* data, int size) {
        begin_call();
        return outcome(function(ssl_.get(), data, size));
    }

    template <class Action>
    std::size_t now(const Action& action, std::error_code& ec) {
        if (!next_->lowest_layer().is_open()) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        const Attempt attempt = action(*this);
        ec = attempt.want == Want::done ? attempt.error : std::error_code(asio::error::would_block);
        return attempt.bytes;
    }

    struct Handshake {
        Attempt operator()(TlsStream& s) const {
            s.begin_call();
            return s.outcome(SSL_do_handshake(s.ssl_.get()));
        }
    };
    struct Read {
        asio::mutable_buffer target;
        Attempt operator()(TlsStream& s) const {
            if (target.size() == 0) return {};
            return s.call([](SSL* ssl, void* data, int size) { return SSL_read(ssl, data, size); }, target.data(),
                          clamp(target.size()));
        }
    };
    struct Write {
        asio::const_buffer source;
        Attempt operator()(TlsStream& s) const {
            if (source.size() == 0) return {};
            return s.call([](SSL* ssl, void* data, int size) { return SSL_write(ssl, data, size); },
                          const_cast<void*>(source.data()), clamp(source.size()));
        }
    };
    struct Shutdown {
        Attempt operator()(TlsStream& s) const {
            s.begin_call();
            const int result = SSL_shutdown(s.ssl_.get());
            if (result >= 0) return {};  // 0: ours is sent; the peer's is not awaited
            return s.outcome(result);
        }
    };

    /// One operation: call the library; wait for the socket when it asks; never complete inside the
    /// initiating call (a result ready at once is posted first).
    template <class Action, bool WithBytes>
    struct Operation {
        TlsStream* stream;
        Action action;
        std::optional<Attempt> finished{};
        bool waited = false;

        template <class Self>
        void operator()(Self& self, std::error_code wait_error = {}) {
            if (finished) return complete(self, *finished);
            if (wait_error) return complete(self, Attempt{Want::done, wait_error, 0});
            if (!stream->next_->lowest_layer().is_open())
                return finish(self, Attempt{Want::done, asio::error::bad_descriptor, 0});
            const Attempt attempt = action(*stream);
            switch (attempt.want) {
            case Want::read:
                waited = true;
                stream->next_->next_layer().async_wait(asio::socket_base::wait_read, std::move(self));
                return;
            case Want::write:
                waited = true;
                stream->next_->next_layer().async_wait(asio::socket_base::wait_write, std::move(self));
                return;
            case Want::done: return finish(self, attempt);
            }
        }

    private:
        template <class Self>
        void finish(Self& self, const Attempt& attempt) {
            if (waited) return complete(self, attempt);
            finished = attempt;
            auto executor = self.get_executor();
            asio::post(executor, std::move(self));
        }
        template <class Self>
        static void complete(Self& self, const Attempt& attempt) {
            if constexpr (WithBytes) self.complete(attempt.error, attempt.bytes);
            else self.complete(attempt.error);
        }
    };

    // ---- the BIO: the buffered prefix first, then the socket, never blocking, never SIGPIPE ----
    static TlsStream& from(BIO* bio) noexcept { return *static_cast<TlsStream*>(BIO_get_data(bio)); }

    static int bio_read(BIO* bio, char* out, int size) {
        BIO_clear_retry_flags(bio);
        if (size <= 0) return 0;
        TlsStream& s = from(bio);
        auto& prefix = s.next_->prefix();
        if (const auto pending = prefix.pending(); !pending.empty()) {
            const std::size_t n = std::min(pending.size(), static_cast<std::size_t>(size));
            std::memcpy(out, pending.data(), n);
            prefix.consume(n);
            return static_cast<int>(n);
        }
        // MSG_DONTWAIT: the socket may still be in blocking mode (Asio makes it non-blocking only when
        // its own first asynchronous operation starts, and implicit TLS may come first).
        const ssize_t n =
            ::recv(s.next_->lowest_layer().native_handle(), out, static_cast<std::size_t>(size), MSG_DONTWAIT);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
        else s.transport_errno_ = errno;
        return -1;
    }

    static int bio_write(BIO* bio, const char* in, int size) {
        BIO_clear_retry_flags(bio);
        if (size <= 0) return 0;
        TlsStream& s = from(bio);
        const ssize_t n = ::send(s.next_->lowest_layer().native_handle(), in, static_cast<std::size_t>(size),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
        else s.transport_errno_ = errno;
        return -1;
    }

    static long bio_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

    static BIO_METHOD* bio_method() {
        // Made once per stream type, on first use (thread-safe static initialisation), kept for the
        // process's life like the library's own built-in methods.
        static BIO_METHOD* const method = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "berth session socket");
            if (!m) throw std::bad_alloc();
            BIO_meth_set_read(m, &TlsStream::bio_read);
            BIO_meth_set_write(m, &TlsStream::bio_write);
            BIO_meth_set_ctrl(m, &TlsStream::bio_ctrl);
            return m;
        }();
        return method;
    }

    Next* next_;
    std::unique_ptr<SSL, SslFree> ssl_;
    int transport_errno_ = 0;
};

}  // namespace berth
