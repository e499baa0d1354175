#pragma once
// The checks `berth probe` runs against one bind address of one listener, as a client sees the server:
// the connection, TLS (implicit, or plaintext first with STARTTLS advertised exactly when configured),
// the connection limit, the PROXY protocol and the tlsTimeout deadlines (SPEC §5).

#include "probe_client.hpp"
#include "probe_report.hpp"

namespace berth::probe {

/// Every check the options ask for, in order: TCP; implicit TLS and its versions, or the plaintext
/// greeting; STARTTLS advertised or not, the upgrade and its versions; then --limits, --proxy and
/// --deadlines.
void probe_target(const Target& target, Report& report);

/// With --limits (probe_limits.cpp): hold maxConnections served connections, open one more and see
/// the overload policy, release them, and see a new connection served.
void check_connection_limit(const Target& target, Report& report);

/// With --proxy (probe_proxy.cpp): PROXY v1 and v2 headers from a trusted loopback source are read,
/// no header from it closes, and an untrusted source is served without one.
void check_proxy_protocol(const Target& target, Report& report);

/// With --deadlines (probe_deadlines.cpp): a client that owes the server a ClientHello (implicit TLS,
/// after STARTTLS) or a PROXY header (from a trusted source) and sends nothing is closed at tlsTimeout.
void check_deadlines(const Target& target, Report& report);

}  // namespace berth::probe
