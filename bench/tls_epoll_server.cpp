// The TLS yardstick: epoll_server's loop with the TLS library alone (BoringSSL, or OpenSSL 3 in an OpenSSL
// build). One thread: accept, drive the non-blocking server handshake (SSL_do_handshake says whether it
// waits to read or to write), send "220 yardstick\r\n" over TLS, then wait until the client closes. The
// certificate is a self-signed ECDSA P-256 one for "localhost", generated at start. The context is set as
// berth sets a default listener's (TLS 1.2 to 1.3, server preference, the library's default groups and
// session tickets), so a TLS 1.3 handshake costs what the library makes it cost. berth's CPU per TLS 1.3
// handshake is measured against this loop (docs/performance.md).

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "yardstick.hpp"

namespace {

struct FreeKey {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct FreeKeyContext {
    void operator()(EVP_PKEY_CTX* context) const noexcept { EVP_PKEY_CTX_free(context); }
};
struct FreeCertificate {
    void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct FreeContext {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};

std::unique_ptr<EVP_PKEY, FreeKey> generate_p256_key() {
    std::unique_ptr<EVP_PKEY_CTX, FreeKeyContext> context(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
    EVP_PKEY* key = nullptr;
    if (!context || EVP_PKEY_keygen_init(context.get()) != 1 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_X9_62_prime256v1) != 1 ||
        EVP_PKEY_keygen(context.get(), &key) != 1)
        return nullptr;
    return std::unique_ptr<EVP_PKEY, FreeKey>(key);
}

std::unique_ptr<X509, FreeCertificate> self_signed_certificate(EVP_PKEY* key) {
    std::unique_ptr<X509, FreeCertificate> certificate(X509_new());
    if (!certificate) return nullptr;
    X509* x = certificate.get();
    X509_NAME* name = X509_get_subject_name(x);
    const auto* common_name = reinterpret_cast<const unsigned char*>("localhost");
    const bool ok = X509_set_version(x, 2) == 1 &&  // 2 is X.509 v3
                    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
                    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr &&
                    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600) != nullptr &&
                    X509_set_pubkey(x, key) == 1 &&
                    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) == 1 &&
                    X509_set_issuer_name(x, name) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
    return ok ? std::move(certificate) : nullptr;
}

std::unique_ptr<SSL_CTX, FreeContext> server_context() {
    std::unique_ptr<SSL_CTX, FreeContext> context(SSL_CTX_new(TLS_server_method()));
    const auto key = generate_p256_key();
    const auto certificate = key ? self_signed_certificate(key.get()) : nullptr;
    if (!context || !certificate || SSL_CTX_use_certificate(context.get(), certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1 || SSL_CTX_check_private_key(context.get()) != 1 ||
        SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), TLS1_3_VERSION) != 1)
        return nullptr;
    SSL_CTX_set_options(context.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
    return context;
}

/// One connection's state; epoll's data pointer points at it.
struct Connection {
    enum class Phase : std::uint8_t { handshake, greeting, open };
    int fd;
    SSL* ssl;
    Phase phase = Phase::handshake;
    std::uint32_t events = EPOLLIN | EPOLLRDHUP;  // what the epoll set waits for now
};

class Server {
public:
    Server(int epoll, SSL_CTX* context) : epoll_(epoll), context_(context) {}

    void accept(int fd) {
        ++accepted_;
        SSL* ssl = SSL_new(context_);
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            ++failed_;
            return;
        }
        SSL_set_accept_state(ssl);
        auto* connection = new Connection{fd, ssl};
        if (!yardstick::watch(epoll_, fd, connection->events, epoll_data_t{.ptr = connection})) {
            finish(connection, false);
            return;
        }
        advance(connection);  // the ClientHello may already be here
    }

    /// Takes the connection as far as the bytes that have arrived allow.
    void advance(Connection* connection) {
        for (;;) {
            int result = 0;
            switch (connection->phase) {
            case Connection::Phase::handshake: result = SSL_do_handshake(connection->ssl); break;
            case Connection::Phase::greeting:
                result = SSL_write(connection->ssl, yardstick::greeting.data(),
                                   static_cast<int>(yardstick::greeting.size()));
                break;
            case Connection::Phase::open: {
                std::array<char, 4096> buffer{};
                result = SSL_read(connection->ssl, buffer.data(), static_cast<int>(buffer.size()));
                break;
            }
            }
            if (result > 0) {
                if (connection->phase == Connection::Phase::handshake) connection->phase = Connection::Phase::greeting;
                else if (connection->phase == Connection::Phase::greeting) connection->phase = Connection::Phase::open;
                continue;  // handshake done, greeting sent, or client data dropped: go on
            }
            switch (SSL_get_error(connection->ssl, result)) {
            case SSL_ERROR_WANT_READ: wait_for(connection, EPOLLIN | EPOLLRDHUP); return;
            case SSL_ERROR_WANT_WRITE: wait_for(connection, EPOLLOUT | EPOLLRDHUP); return;
            default:  // close_notify, a closed or reset socket, or a failed handshake
                finish(connection, connection->phase == Connection::Phase::open);
                return;
            }
        }
    }

    void report() const {
        std::fprintf(stderr, "tls_epoll_server: %llu connections accepted, %llu failed before the greeting\n",
                     static_cast<unsigned long long>(accepted_), static_cast<unsigned long long>(failed_));
    }

private:
    int epoll_;
    SSL_CTX* context_;
    std::uint64_t accepted_ = 0;
    std::uint64_t failed_ = 0;

    void wait_for(Connection* connection, std::uint32_t events) {
        if (connection->events == events) return;
        epoll_event event{};
        event.events = events;
        event.data.ptr = connection;
        if (epoll_ctl(epoll_, EPOLL_CTL_MOD, connection->fd, &event) == 0) connection->events = events;
    }

    void finish(Connection* connection, bool greeted) {
        if (!greeted) ++failed_;
        ERR_clear_error();  // the library's error queue is per thread: do not let it grow
        SSL_free(connection->ssl);
        close(connection->fd);
        delete connection;
    }
};

}  // namespace

int main(int argc, char** argv) {
    const auto options = yardstick::parse_options(
        argc, argv,
        "A non-blocking TLS epoll accept loop (self-signed ECDSA P-256 certificate for localhost) that greets each\n"
        "connection over TLS and closes when the client closes.");
    if (!options) return 2;
    yardstick::raise_descriptor_limit();

    const auto context = server_context();
    if (!context) {
        std::fprintf(stderr, "tls_epoll_server: TLS set-up failed: %s\n", ERR_error_string(ERR_get_error(), nullptr));
        return 1;
    }
    std::uint16_t port = 0;
    const int listener = yardstick::listen_on_loopback(*options, port);
    const int signals = yardstick::termination_signals();
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    // The listener and the signal descriptor are told apart from connections by their data pointers.
    int listener_tag = 0;
    int signal_tag = 0;
    if (listener < 0 || signals < 0 || epoll < 0 ||
        !yardstick::watch(epoll, listener, EPOLLIN, epoll_data_t{.ptr = &listener_tag}) ||
        !yardstick::watch(epoll, signals, EPOLLIN, epoll_data_t{.ptr = &signal_tag})) {
        std::perror("tls_epoll_server: set-up");
        return 1;
    }
    std::fprintf(stderr, "tls_epoll_server: %s, self-signed ECDSA P-256 certificate for localhost\n",
                 OpenSSL_version(OPENSSL_VERSION));
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    Server server(epoll, context.get());
    yardstick::AcceptPause pause(epoll, listener, epoll_data_t{.ptr = &listener_tag});
    std::array<epoll_event, 256> events{};
    bool running = true;
    while (running) {
        const int ready = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), pause.wait_milliseconds());
        if (ready < 0 && errno != EINTR) {
            std::perror("epoll_wait");
            return 1;
        }
        pause.resume_if_due();
        for (int i = 0; i < ready; ++i) {
            void* tag = events[static_cast<std::size_t>(i)].data.ptr;
            if (tag == &signal_tag) {
                running = false;
            } else if (tag == &listener_tag) {
                if (!yardstick::accept_all(listener, [&](int fd) { server.accept(fd); })) pause.start();
            } else {
                server.advance(static_cast<Connection*>(tag));
            }
        }
    }
    server.report();
    return 0;
}
