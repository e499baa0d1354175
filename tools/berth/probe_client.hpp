#pragma once
// How `berth probe` opens a connection the way a listener expects it: from which loopback source
// address, with which PROXY header (SPEC §5), implicit TLS or not, and up to the greeting. Also what it
// probes (a Target: one bind address of one listener) and the options every check shares.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "berth/model/ip_address.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/model/socket_addr.hpp"
#include "probe_connection.hpp"
#include "probe_proxy_header.hpp"
#include "probe_report.hpp"

namespace berth::probe {

/// What a connection over the limit should see (SPEC §5's overload policies).
enum class OverloadExpectation : unsigned char { close, busy, backpressure };

struct ProbeOptions {
    IpAddress host = IpAddress::v4({127, 0, 0, 1});
    std::map<std::uint16_t, std::uint16_t> port_map;
    bool limits = false;
    bool proxy = false;
    bool deadlines = false;
    OverloadExpectation overload = OverloadExpectation::close;
    std::chrono::milliseconds step{5000};             ///< every network wait
    std::uint32_t limit_bound = 256;                  ///< larger maxConnections are not tried
    std::chrono::milliseconds deadline_bound{30000};  ///< longer tlsTimeouts are not waited for
};

/// One bind address of one listener, and where the probe connects for it.
struct Target {
    const ResolvedListener& listener;
    SocketAddr address;  ///< --host and the (mapped) port
    Subject subject;     ///< the listener's name and the bind as configured
    const ProbeOptions& options;

    [[nodiscard]] Deadline step_deadline() const { return Clock::now() + options.step; }
    [[nodiscard]] Protocol protocol() const noexcept { return listener.protocol; }
    [[nodiscard]] bool implicit_tls() const noexcept { return listener.use_tls && listener.tls_implicit; }
};

/// Where a connection comes from and what it sends first.
struct ClientPlan {
    std::optional<IpAddress> source;  ///< bound before connecting; the kernel's choice when empty
    ProxyHeaderToSend header = ProxyHeaderToSend::none;
};

/// Loopback addresses a client can connect from (127.0.0.x towards an IPv4 target, ::1 towards an IPv6
/// one), one the listener's trusted networks match and one they do not, where such addresses exist.
struct LoopbackSources {
    std::optional<IpAddress> trusted;
    std::optional<IpAddress> untrusted;
};
LoopbackSources loopback_sources(const ResolvedListener& listener, const IpAddress& target);

/// The plan of every check but the PROXY ones: no source and no header for a listener without trusted
/// networks; else an untrusted loopback source (no header needed), or a trusted one with a PROXY v1
/// header when every loopback address is trusted.
ClientPlan ordinary_plan(const ResolvedListener& listener, const IpAddress& target);

/// "from 127.0.0.2 with a PROXY v1 header", or empty for the default plan.
std::string describe(const ClientPlan& plan);

/// A connection opened as a plan says, as far as the caller asked.
struct Opened {
    Connection connection;
    std::string failure;  ///< empty when every step asked for succeeded
    TlsOutcome tls;       ///< the implicit TLS handshake, when there was one
    ReadStatus greeting_status = ReadStatus::failed;
    std::string greeting;  ///< the greeting's bytes (the connection's buffer is left empty)
};

enum class Until : unsigned char {
    connected,  ///< TCP, plus the PROXY header the plan sends
    secured,    ///< and the implicit TLS handshake, on an implicit-TLS listener
    greeted,    ///< and the greeting (HTTP: the request sent and the status line read)
};

/// Opens a connection for `target` as `plan` says, up to `until`, each step within its own deadline.
/// `failure` names the first step that failed; a greeting that did not arrive is not a failure here
/// (greeting_status tells), so a check can say what it saw instead.
Opened open_client(const Target& target, const ClientPlan& plan, Until until);

/// Establishes TLS for `target` with `offer`: on an implicit-TLS listener right after connecting, on a
/// STARTTLS listener after the greeting, the capability command and STARTTLS. The connection is
/// returned open on success.
struct Secured {
    Connection connection;
    TlsOutcome tls;
    std::string failure;  ///< a step before the handshake failed
};
Secured establish_tls(const Target& target, const TlsOffer& offer);

/// "TLSv1.3, TLS_AES_128_GCM_SHA256, certificate subject /CN=localhost, not verified".
std::string describe(const TlsOutcome& tls);

/// For a message: the first line of what a server sent, printable.
std::string first_line(std::string_view bytes);

}  // namespace berth::probe
