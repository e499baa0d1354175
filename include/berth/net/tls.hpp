#pragma once
// The TLS policy: the TLS context a listener gets, or none. `PlaintextOnly` has no TLS at all and
// refuses a listener that asks for it (a TLS listener never silently turns into plain TCP);
// `LibraryTls<Source>` is the build's TLS library (BoringSSL, or OpenSSL 3) with a certificate source.

#include <asio/ssl/context.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "berth/model/field.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/net/certificate.hpp"
#include "berth/net/error.hpp"
#include "berth/net/tls_library.hpp"

namespace berth {

/// Makes the listener's TLS context once, when the server is set up. No context and no failure means
/// the listener is plaintext (`useTls` false); a failure refuses the listener and so the server start.
template <class P>
concept TlsPolicy = requires(const P& tls, const ResolvedListener& listener, TlsContextFailure& failure) {
    { tls.make_context(listener, failure) } -> std::same_as<std::optional<asio::ssl::context>>;
};

struct PlaintextOnly {
    [[nodiscard]] std::optional<asio::ssl::context> make_context(const ResolvedListener& listener,
                                                                 TlsContextFailure& failure) const {
        if (listener.use_tls) {
            failure.error = make_error_code(NetError::tls_unavailable);
            failure.field = Field::use_tls;
            failure.detail = "the server was built with the PlaintextOnly TLS policy";
        }
        return std::nullopt;
    }
};

/// TLS through the library berth::net was built with, as `make_tls_context` configures it, with the
/// certificate from `Source`.
template <CertificateSource Source = PemCertificate>
class LibraryTls {
public:
    LibraryTls() = default;
    explicit LibraryTls(Source source) : source_(std::move(source)) {}

    [[nodiscard]] std::optional<asio::ssl::context> make_context(const ResolvedListener& listener,
                                                                 TlsContextFailure& failure) const {
        if (!listener.use_tls) return std::nullopt;
        if (auto mismatch = check_tls_library()) {
            failure.error = mismatch;
            failure.field = Field::use_tls;
            failure.detail = "built for " + std::string(tls_backend_name) + ", running " +
                             std::string(tls_library_version());
            return std::nullopt;
        }
        auto context = make_tls_context(listener, failure);
        if (!context) return std::nullopt;
        std::error_code error;
        source_.install(*context, listener, error);
        if (error) {
            failure.error = error;
            failure.field = Field::use_tls;
            const std::string library_error = detail::take_tls_library_error();
            failure.detail = library_error.empty() ? "certificate source" : "certificate: " + library_error;
            return std::nullopt;
        }
        return context;
    }

    [[nodiscard]] const Source& certificate_source() const noexcept { return source_; }

private:
    Source source_;
};

}  // namespace berth
