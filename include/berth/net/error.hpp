#pragma once
// berth's network errors: an std::error_code category of its own, and the report of a server that
// could not start (every failed address or listener, its configuration key and the reason).

#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "berth/model/socket_addr.hpp"

namespace berth {

enum class NetError {
    startup_failed = 1,        ///< one or more listeners could not be set up: see the failure list
    tls_unavailable,           ///< the listener wants TLS and the server's TLS policy is plaintext
    tls_configuration,         ///< the TLS library refused the listener's TLS settings
    tls_suite_not_removable,   ///< the TLS library cannot remove a TLS 1.3 suite (BoringSSL)
    tls_library_mismatch,      ///< the program runs against another TLS library than it was built for
    no_certificate,            ///< the certificate source has no certificate or key
    proxy_protocol_unavailable,///< the listener trusts PROXY senders and the policy reads no PROXY header
    proxy_header_invalid,      ///< a trusted peer sent something that is not a valid PROXY header
    proxy_header_truncated,    ///< a trusted peer closed before its PROXY header was complete
    starttls_unavailable,      ///< STARTTLS asked for on a listener that does not offer it, or twice
    already_started,           ///< bind or start called twice
    not_bound,                 ///< start called before a successful bind
};

namespace detail {

class NetErrorCategory final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "berth.net"; }
    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<NetError>(value)) {
        case NetError::startup_failed: return "the server could not set up its listeners";
        case NetError::tls_unavailable: return "the listener uses TLS but the server has no TLS policy";
        case NetError::tls_configuration: return "the TLS library refused the listener's TLS settings";
        case NetError::tls_suite_not_removable: return "the TLS library cannot remove a TLS 1.3 cipher suite";
        case NetError::tls_library_mismatch: return "the program runs against another TLS library than it was built for";
        case NetError::no_certificate: return "no certificate and private key for a TLS listener";
        case NetError::proxy_protocol_unavailable:
            return "the listener trusts PROXY protocol senders but the server reads no PROXY header";
        case NetError::proxy_header_invalid: return "invalid PROXY protocol header";
        case NetError::proxy_header_truncated: return "connection closed inside the PROXY protocol header";
        case NetError::starttls_unavailable: return "STARTTLS is not available on this connection";
        case NetError::already_started: return "the server was already bound or started";
        case NetError::not_bound: return "the server has not been bound";
        }
        return "unknown berth.net error";
    }
};

}  // namespace detail

[[nodiscard]] inline const std::error_category& net_category() noexcept {
    static const detail::NetErrorCategory category;
    return category;
}

[[nodiscard]] inline std::error_code make_error_code(NetError e) noexcept {
    return {static_cast<int>(e), net_category()};
}

/// One reason the server did not start: which listener, which address (when the step concerns one),
/// the configuration key the value came from, the step that failed and why.
struct StartupFailure {
    std::string listener;
    std::optional<SocketAddr> address;
    std::string key;       ///< provenance path (`server.listener.smtp.bind`), or `listener "<name>"` for code-built ones
    std::string step;      ///< "bind", "listen", "open", "set SO_REUSEPORT", "TLS context", ...
    std::error_code error; ///< the OS reason, or a berth.net error
    std::string detail;    ///< extra words when the code alone does not say it (e.g. the refused cipher suite)

    /// `127.0.0.1:2525 (server.listener.smtp.bind): bind: Address already in use`
    [[nodiscard]] std::string to_string() const {
        std::string text = address ? address->to_string() : "listener \"" + listener + "\"";
        text += " (" + key + "): " + step + ": " + error.message();
        if (!detail.empty()) text += " (" + detail + ")";
        return text;
    }
};

[[nodiscard]] inline std::string describe(const std::vector<StartupFailure>& failures) {
    std::string text = failures.size() == 1 ? "cannot start the listener: " : "cannot start the listeners:";
    if (failures.size() == 1) return text + failures.front().to_string();
    for (const auto& failure : failures) text += "\n  " + failure.to_string();
    return text;
}

/// What the throwing overloads throw: the code (`NetError::startup_failed`) and every failure.
class StartupError : public std::system_error {
public:
    explicit StartupError(std::vector<StartupFailure> failures)
        : std::system_error(make_error_code(NetError::startup_failed), describe(failures)),
          failures_(std::move(failures)) {}
    [[nodiscard]] const std::vector<StartupFailure>& failures() const noexcept { return failures_; }

private:
    std::vector<StartupFailure> failures_;
};

}  // namespace berth

template <>
struct std::is_error_code_enum<berth::NetError> : std::true_type {};
