#pragma once
// One client connection of `berth probe`: TCP from an optional source address, plain or TLS, where
// every wait ends at a deadline. Built on non-blocking sockets and poll(), with the TLS library
// berth::net links (BoringSSL or OpenSSL), so a stuck server can never stall the probe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "berth/model/ip_address.hpp"
#include "berth/model/socket_addr.hpp"

// The TLS library's handles, declared here so this header does not pull in <openssl/ssl.h>.
struct ssl_st;
struct ssl_ctx_st;

namespace berth::probe {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

enum class ReadStatus : unsigned char {
    complete,   ///< what the caller waited for is in the buffer
    closed,     ///< the server closed (or reset) the connection first
    timed_out,  ///< the deadline passed
    failed,     ///< a local or TLS error; see error()
};

/// The TLS versions a client offers, as wire values (0x0301 TLS 1.0 ... 0x0304 TLS 1.3).
struct TlsOffer {
    std::uint16_t min_version = 0x0303;
    std::uint16_t max_version = 0x0304;
};

struct TlsOutcome {
    bool established = false;
    ReadStatus status = ReadStatus::failed;  ///< complete, closed (by the server), timed_out or failed
    bool hello_sent = false;                 ///< the client wrote its ClientHello (so a refusal came from the server)
    std::string version;                     ///< "TLSv1.3"
    std::string cipher;                      ///< "TLS_AES_128_GCM_SHA256"
    std::string subject;                     ///< the server certificate's subject, not verified
    std::string error;                       ///< why the handshake failed
};

class Connection {
public:
    /// Connects to `target` (from `source` when given) before `deadline`. On failure the connection
    /// is not open and error() says why.
    static Connection open(const SocketAddr& target, const std::optional<IpAddress>& source, Deadline deadline);

    Connection() = default;
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
    [[nodiscard]] bool tls_active() const noexcept { return tls_established_; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

    /// Bytes received and not yet consumed by the caller.
    [[nodiscard]] std::string& buffer() noexcept { return buffer_; }

    /// Sends all of `bytes` (through TLS once it is active).
    bool send(std::string_view bytes, Deadline deadline);

    /// Reads until `complete(buffer())` holds, the server closes, or the deadline. A buffer over 64 KiB
    /// is a failure: a server cannot make the probe hold unbounded data.
    ReadStatus read_until(const std::function<bool(std::string_view)>& complete, Deadline deadline);

    /// Reads until any byte arrives (complete), the server closes, or the deadline.
    ReadStatus read_any(Deadline deadline) {
        return read_until([](std::string_view b) { return !b.empty(); }, deadline);
    }

    /// Starts TLS on this connection (implicit TLS right after connecting, or after STARTTLS). SNI is
    /// "localhost"; the certificate is reported, never verified. Bytes already buffered as plaintext are
    /// dropped, as a server must drop them.
    TlsOutcome start_tls(const TlsOffer& offer, Deadline deadline);

    /// Goes on with a handshake that start_tls left unfinished at its deadline (status timed_out), for
    /// a server that holds a connection before serving it (backpressure).
    TlsOutcome resume_tls(Deadline deadline);

    /// Stops sending (a FIN), waits until the server closes its side or the deadline, then closes. The
    /// server has ended the session (and released its connection permit) when this returns in time.
    void close_politely(Deadline deadline);

    /// Only the FIN, for closing many connections at once; the caller drains with close_politely.
    void shut_down_sending() noexcept;

    /// Closes at once.
    void close() noexcept;

private:
    int fd_ = -1;
    ssl_st* ssl_ = nullptr;
    ssl_ctx_st* ctx_ = nullptr;
    bool tls_established_ = false;
    std::string buffer_;
    std::string error_;

    bool wait_for(short events, Deadline deadline);
    TlsOutcome handshake(Deadline deadline);
};

/// The time left until `deadline` in whole milliseconds for poll(), at least 0.
int milliseconds_until(Deadline deadline) noexcept;

/// Printable text for a report: control bytes as \xNN, at most `limit` characters, the final CRLF dropped.
std::string printable(std::string_view bytes, std::size_t limit = 80);

}  // namespace berth::probe
