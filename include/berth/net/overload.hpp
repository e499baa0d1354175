#pragma once
// The overload policy: what happens to a connection that finds its listener full.

#include <concepts>
#include <string_view>

#include "berth/model/protocol.hpp"
#include "berth/model/resolved_listener.hpp"

namespace berth {

/// An overload policy either waits for a permit (`waits_for_permit`: the acceptor stops accepting while
/// the listener is full), or, over the limit, writes `busy_reply(listener)` (nothing when empty) and
/// closes the connection.
template <class P>
concept OverloadPolicy = requires(const P& policy, const ResolvedListener& listener) {
    { P::waits_for_permit } -> std::convertible_to<bool>;
    { policy.busy_reply(listener) } -> std::convertible_to<std::string_view>;
};

/// The line a protocol's clients understand as "busy, try later", ending in CRLF.
[[nodiscard]] constexpr std::string_view busy_reply_text(Protocol protocol) noexcept {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return "421 4.3.2 Too many connections\r\n";
    case Protocol::imap: return "* BYE Too many connections\r\n";
    case Protocol::pop3: return "-ERR Too many connections\r\n";
    case Protocol::manage_sieve: return "BYE \"Too many connections\"\r\n";
    case Protocol::http:
        return "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    }
    return {};
}

/// Stalwart's behaviour and the default: close at once, nothing written.
struct CloseWhenFull {
    static constexpr bool waits_for_permit = false;
    [[nodiscard]] std::string_view busy_reply(const ResolvedListener&) const noexcept { return {}; }
};

/// Stop accepting while the listener is full and resume when a permit frees: each acceptor holds the
/// one connection it has just accepted (no greeting yet) and accepts nothing more, so new connections
/// wait in the kernel's backlog. The permit is taken right after accept(), before a PROXY header is
/// read: otherwise every trusted connection would be accepted while its header is pending.
struct Backpressure {
    static constexpr bool waits_for_permit = true;
    [[nodiscard]] std::string_view busy_reply(const ResolvedListener&) const noexcept { return {}; }
};

/// Write the protocol's busy line, then close. On an implicit-TLS listener the client expects a TLS
/// handshake, not a plaintext line, so there it closes at once like CloseWhenFull.
struct BusyReply {
    static constexpr bool waits_for_permit = false;
    [[nodiscard]] std::string_view busy_reply(const ResolvedListener& listener) const noexcept {
        if (listener.use_tls && listener.tls_implicit) return {};
        return busy_reply_text(listener.protocol);
    }
};

}  // namespace berth
