// The probe's client connection: non-blocking sockets, poll() with deadlines, TLS through the library
// berth::net links.
#include "probe_connection.hpp"

#if BERTH_CLI_SERVE

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace berth::probe {

namespace {

constexpr std::size_t buffer_limit = 64 * 1024;

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t size = 0;
};

SocketAddress to_sockaddr(const IpAddress& address, std::uint16_t port) {
    SocketAddress out;
    if (address.is_v4()) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        const auto bytes = address.v4_bytes();
        std::memcpy(&a.sin_addr, bytes.data(), bytes.size());
        std::memcpy(&out.storage, &a, sizeof a);
        out.size = sizeof a;
    } else {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        const auto bytes = address.v6_bytes();
        std::memcpy(&a.sin6_addr, bytes.data(), bytes.size());
        a.sin6_scope_id = address.scope_id();
        std::memcpy(&out.storage, &a, sizeof a);
        out.size = sizeof a;
    }
    return out;
}

std::string os_error(int code) { return std::strerror(code); }

/// The TLS library's reasons for its last errors, the queue cleared.
std::string take_library_errors() {
    std::string text;
    while (const unsigned long code = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(code);
        if (!text.empty()) text += "; ";
        text += reason ? reason : ("error " + std::to_string(code));
    }
    return text;
}

/// Why an SSL call returned `result`, and whether that means the peer went away.
std::string describe_tls_failure(int ssl_error, int saved_errno, bool& closed_by_peer) {
    closed_by_peer = false;
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
        closed_by_peer = true;
        return "the server closed the TLS connection";
    }
    if (ssl_error == SSL_ERROR_SYSCALL) {
        std::string library = take_library_errors();
        if (!library.empty()) return library;
        closed_by_peer = saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE;
        return saved_errno == 0 ? "the server closed the connection" : os_error(saved_errno);
    }
    std::string library = take_library_errors();
    return library.empty() ? "TLS error " + std::to_string(ssl_error) : library;
}

}  // namespace

int milliseconds_until(Deadline deadline) noexcept {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    return left > 3'600'000 ? 3'600'000 : static_cast<int>(left);
}

std::string printable(std::string_view bytes, std::size_t limit) {
    while (bytes.ends_with("\r\n") || bytes.ends_with("\n")) bytes.remove_suffix(bytes.ends_with("\r\n") ? 2 : 1);
    std::string out;
    for (const char c : bytes) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (u < 0x20 || u >= 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else
            out += c;
    }
    return out;
}

Connection Connection::open(const SocketAddr& target, const std::optional<IpAddress>& source, Deadline deadline) {
    Connection c;
    const int family = target.address().is_v4() ? AF_INET : AF_INET6;
    c.fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd_ < 0) {
        c.error_ = "socket: " + os_error(errno);
        return c;
    }
    if (source) {
        const SocketAddress from = to_sockaddr(*source, 0);
        if (::bind(c.fd_, reinterpret_cast<const sockaddr*>(&from.storage), from.size) != 0) {
            c.error_ = "cannot use source address " + source->to_string() + ": " + os_error(errno);
            c.close();
            return c;
        }
    }
    const SocketAddress to = to_sockaddr(target.address(), target.port());
    if (::connect(c.fd_, reinterpret_cast<const sockaddr*>(&to.storage), to.size) != 0) {
        if (errno != EINPROGRESS) {
            c.error_ = os_error(errno);
            c.close();
            return c;
        }
        if (!c.wait_for(POLLOUT, deadline)) {
            c.error_ = "no connection before the deadline";
            c.close();
            return c;
        }
        int result = 0;
        socklen_t size = sizeof result;
        if (::getsockopt(c.fd_, SOL_SOCKET, SO_ERROR, &result, &size) != 0) result = errno;
        if (result != 0) {
            c.error_ = os_error(result);
            c.close();
            return c;
        }
    }
    return c;
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      ctx_(std::exchange(other.ctx_, nullptr)),
      tls_established_(std::exchange(other.tls_established_, false)),
      buffer_(std::move(other.buffer_)),
      error_(std::move(other.error_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        ssl_ = std::exchange(other.ssl_, nullptr);
        ctx_ = std::exchange(other.ctx_, nullptr);
        tls_established_ = std::exchange(other.tls_established_, false);
        buffer_ = std::move(other.buffer_);
        error_ = std::move(other.error_);
    }
    return *this;
}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    tls_established_ = false;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool Connection::wait_for(short events, Deadline deadline) {
    for (;;) {
        pollfd p{fd_, events, 0};
        const int ready = ::poll(&p, 1, milliseconds_until(deadline));
        if (ready > 0) return true;  // readable, writable, or an error/hang-up the next call reports
        if (ready == 0) return false;
        if (errno != EINTR) return false;
    }
}

bool Connection::send(std::string_view bytes, Deadline deadline) {
    if (fd_ < 0) {
        error_ = "not connected";
        return false;
    }
    error_.clear();
    while (!bytes.empty()) {
        if (ssl_) {
            ERR_clear_error();
            const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            const int e = SSL_get_error(ssl_, n);
            const int saved = errno;
            if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) &&
                wait_for(e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline))
                continue;
            bool closed = false;
            error_ = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? "could not send before the deadline"
                                                                           : describe_tls_failure(e, saved, closed);
            return false;
        }
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (errno == EINTR || wait_for(POLLOUT, deadline)) continue;
            error_ = "could not send before the deadline";
            return false;
        }
        error_ = "send: " + os_error(errno);
        return false;
    }
    return true;
}

ReadStatus Connection::read_until(const std::function<bool(std::string_view)>& complete, Deadline deadline) {
    if (fd_ < 0) {
        error_ = "not connected";
        return ReadStatus::failed;
    }
    error_.clear();
    char chunk[4096];
    for (;;) {
        if (complete(buffer_)) return ReadStatus::complete;
        if (buffer_.size() > buffer_limit) {
            error_ = "more than 64 KiB without what was expected";
            return ReadStatus::failed;
        }
        if (ssl_) {
            ERR_clear_error();
            const int n = SSL_read(ssl_, chunk, sizeof chunk);
            if (n > 0) {
                buffer_.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            const int e = SSL_get_error(ssl_, n);
            const int saved = errno;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                if (wait_for(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) continue;
                error_ = "nothing more before the deadline";
                return ReadStatus::timed_out;
            }
            bool closed = false;
            error_ = describe_tls_failure(e, saved, closed);
            return closed ? ReadStatus::closed : ReadStatus::failed;
        }
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            error_ = "the server closed the connection";
            return ReadStatus::closed;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_for(POLLIN, deadline)) continue;
            error_ = "nothing more before the deadline";
            return ReadStatus::timed_out;
        }
        if (errno == ECONNRESET || errno == EPIPE) {
            error_ = "the server reset the connection";
            return ReadStatus::closed;
        }
        error_ = "recv: " + os_error(errno);
        return ReadStatus::failed;
    }
}

TlsOutcome Connection::start_tls(const TlsOffer& offer, Deadline deadline) {
    TlsOutcome out;
    if (fd_ < 0) {
        out.status = ReadStatus::failed;
        out.error = "not connected";
        return out;
    }
    buffer_.clear();
    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_ || !SSL_CTX_set_min_proto_version(ctx_, offer.min_version) ||
        !SSL_CTX_set_max_proto_version(ctx_, offer.max_version)) {
        out.status = ReadStatus::failed;
        out.error = "the TLS library refused the client settings: " + take_library_errors();
        return out;
    }
#if !defined(OPENSSL_IS_BORINGSSL)
    // OpenSSL 3's default security level forbids TLS 1.0 and 1.1 in the client itself; the probe must
    // be able to offer them to see whether the server refuses them.
    if (offer.min_version < TLS1_2_VERSION) SSL_CTX_set_security_level(ctx_, 0);
#endif
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // the probe checks behaviour, not trust
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1 || SSL_set_tlsext_host_name(ssl_, "localhost") != 1) {
        out.status = ReadStatus::failed;
        out.error = "the TLS library could not make a client: " + take_library_errors();
        close();
        return out;
    }
    SSL_set_connect_state(ssl_);
    return handshake(deadline);
}

TlsOutcome Connection::resume_tls(Deadline deadline) {
    if (!ssl_ || fd_ < 0) {
        TlsOutcome out;
        out.error = "no TLS handshake to resume";
        return out;
    }
    return handshake(deadline);
}

TlsOutcome Connection::handshake(Deadline deadline) {
    TlsOutcome out;
    for (;;) {
        ERR_clear_error();
        const int r = SSL_do_handshake(ssl_);
        out.hello_sent = BIO_number_written(SSL_get_wbio(ssl_)) > 0;
        if (r == 1) break;
        const int e = SSL_get_error(ssl_, r);
        const int saved = errno;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_for(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) continue;
            out.status = ReadStatus::timed_out;  // left open: the caller may resume or close
            out.error = "no handshake before the deadline";
            return out;
        }
        bool closed = false;
        out.error = describe_tls_failure(e, saved, closed);
        out.status = closed ? ReadStatus::closed : ReadStatus::failed;
        close();
        return out;
    }
    out.established = true;
    tls_established_ = true;
    out.status = ReadStatus::complete;
    out.version = SSL_get_version(ssl_);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) out.cipher = SSL_CIPHER_get_name(cipher);
#if defined(OPENSSL_IS_BORINGSSL)
    X509* certificate = SSL_get_peer_certificate(ssl_);
#else
    X509* certificate = SSL_get1_peer_certificate(ssl_);
#endif
    if (certificate) {
        char name[512];
        if (X509_NAME_oneline(X509_get_subject_name(certificate), name, sizeof name)) out.subject = name;
        X509_free(certificate);
    } else {
        out.subject = "(none)";
    }
    return out;
}

void Connection::shut_down_sending() noexcept {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void Connection::close_politely(Deadline deadline) {
    if (fd_ < 0) return;
    shut_down_sending();
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) continue;  // whatever the server still says (or TLS records) is not needed
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(POLLIN, deadline)) continue;
        break;  // closed, reset, or the deadline
    }
    close();
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
