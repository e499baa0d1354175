#pragma once
// The TLS library behind berth::net (BoringSSL by default, OpenSSL 3 when chosen at build time): the
// guards that catch a mix of one library's headers with the other's, a run-time check of what was
// really linked, and the TLS context a resolved listener asks for (SPEC §5).

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <asio/ssl/context.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "berth/model/field.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/model/tls.hpp"
#include "berth/net/error.hpp"

#if defined(BERTH_TLS_BORINGSSL) && BERTH_TLS_BORINGSSL && !defined(OPENSSL_IS_BORINGSSL)
#error "berth: BERTH_TLS_BORINGSSL is set but <openssl/ssl.h> is OpenSSL's: put BoringSSL's include directory first (link BoringSSL::SSL)"
#endif
#if defined(BERTH_TLS_OPENSSL) && BERTH_TLS_OPENSSL && defined(OPENSSL_IS_BORINGSSL)
#error "berth: BERTH_TLS_OPENSSL is set but <openssl/ssl.h> is BoringSSL's: remove BoringSSL's include directory"
#endif
#if !defined(OPENSSL_IS_BORINGSSL) && OPENSSL_VERSION_NUMBER < 0x30000000L
#error "berth: the OpenSSL backend needs OpenSSL 3"
#endif

namespace berth {

#if defined(OPENSSL_IS_BORINGSSL)
inline constexpr std::string_view tls_backend_name = "BoringSSL";
#else
inline constexpr std::string_view tls_backend_name = "OpenSSL";
#endif

/// What the running process actually uses: "BoringSSL", or "OpenSSL 3.0.x ...".
[[nodiscard]] inline std::string_view tls_library_version() noexcept { return OpenSSL_version(OPENSSL_VERSION); }

/// The headers and the library that was loaded agree: a BoringSSL build runs on BoringSSL (its
/// OpenSSL_version says exactly "BoringSSL"), an OpenSSL build on OpenSSL 3.
[[nodiscard]] inline std::error_code check_tls_library() noexcept {
    const std::string_view running = tls_library_version();
#if defined(OPENSSL_IS_BORINGSSL)
    if (running != "BoringSSL") return make_error_code(NetError::tls_library_mismatch);
#else
    if (running.substr(0, 8) != "OpenSSL " || OpenSSL_version_num() < 0x30000000UL)
        return make_error_code(NetError::tls_library_mismatch);
#endif
    return {};
}

/// Why a listener's TLS context could not be made: the error, the field whose value caused it (its
/// provenance names the configuration key), and the words the code does not say.
struct TlsContextFailure {
    std::error_code error;
    Field field = Field::use_tls;
    std::string detail;
};

namespace detail {

/// The TLS library's own words for its last error, and the queue cleared.
inline std::string take_tls_library_error() {
    std::string text;
    while (unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.empty()) text += "; ";
        text += buffer;
    }
    return text;
}

inline std::string join_suite_names(const ResolvedListener& listener, TlsVersion version) {
    std::string list;
    for (TlsCipherSuite suite : all_cipher_suites()) {
        if (version_of(suite) != version) continue;
        bool disabled = false;
        for (TlsCipherSuite d : listener.tls_disable_cipher_suites) disabled = disabled || d == suite;
        if (disabled) continue;
        if (!list.empty()) list += ':';
        list += openssl_name(suite);
    }
    return list;
}

inline std::optional<asio::ssl::context> refuse(TlsContextFailure& failure, NetError error, Field field,
                                                std::string detail) {
    failure.error = make_error_code(error);
    failure.field = field;
    failure.detail = std::move(detail);
    return std::nullopt;
}

}  // namespace detail

/// A server TLS context exactly as the listener says, without a certificate (the TLS policy's
/// certificate source adds it):
/// - TLS 1.0 and 1.1 never: the minimum is TLS 1.2, raised to 1.3 when 1.2 is disabled; the maximum
///   is TLS 1.3, lowered to 1.2 when 1.3 is disabled;
/// - TLS 1.2 suites: the SPEC's six ECDHE AEAD suites in its order, minus the disabled ones, set
///   strictly (BoringSSL's strict list; with OpenSSL each name is checked after setting);
/// - TLS 1.3 suites: OpenSSL sets the remaining ones; BoringSSL cannot choose them, so a disabled TLS
///   1.3 suite refuses the listener (unless TLS 1.3 itself is disabled, which removes every 1.3 suite);
/// - tlsIgnoreClientOrder: the server's order (TLS 1.2 suites, and groups).
[[nodiscard]] inline std::optional<asio::ssl::context> make_tls_context(const ResolvedListener& listener,
                                                                         TlsContextFailure& failure) {
    const bool tls12 = listener.version_enabled(TlsVersion::tls12);
    const bool tls13 = listener.version_enabled(TlsVersion::tls13);
    if (!tls12 && !tls13)
        return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_protocols,
                              "every TLS version is disabled");

    ERR_clear_error();
    std::optional<asio::ssl::context> context;
    try {
        context.emplace(asio::ssl::context::tls_server);
    } catch (const std::system_error& e) {
        failure.error = e.code();
        failure.field = Field::use_tls;
        failure.detail = detail::take_tls_library_error();
        return std::nullopt;
    }
    SSL_CTX* ctx = context->native_handle();

    if (!SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION))
        return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_protocols,
                              detail::take_tls_library_error());

    if (listener.tls_ignore_client_order) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    else SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
#if !defined(OPENSSL_IS_BORINGSSL)
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
#endif

    if (tls12) {
        const std::string list = detail::join_suite_names(listener, TlsVersion::tls12);
        if (list.empty())
            return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                  "every TLS 1.2 cipher suite is disabled");
#if defined(OPENSSL_IS_BORINGSSL)
        if (!SSL_CTX_set_strict_cipher_list(ctx, list.c_str()))
            return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                  "cipher list \"" + list + "\": " + detail::take_tls_library_error());
#else
        if (!SSL_CTX_set_cipher_list(ctx, list.c_str()))
            return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                  "cipher list \"" + list + "\": " + detail::take_tls_library_error());
        // OpenSSL has no strict variant: it skips names it does not know. Check that every one is there.
        const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
        std::string_view rest = list;
        while (!rest.empty()) {
            const std::size_t colon = rest.find(':');
            const std::string_view name = rest.substr(0, colon);
            bool found = false;
            for (int i = 0; ciphers && i < sk_SSL_CIPHER_num(ciphers); ++i)
                found = found || name == SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
            if (!found)
                return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                      "the TLS library does not know the cipher suite " + std::string(name));
            rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        }
#endif
    }

    if (tls13) {
#if defined(OPENSSL_IS_BORINGSSL)
        std::string refused;
        for (TlsCipherSuite suite : listener.tls_disable_cipher_suites) {
            if (version_of(suite) != TlsVersion::tls13) continue;
            if (!refused.empty()) refused += ", ";
            refused += std::string(toml_name(suite)) + " (" + std::string(json_name(suite)) + ")";
        }
        if (!refused.empty())
            return detail::refuse(failure, NetError::tls_suite_not_removable, Field::tls_disable_cipher_suites,
                                  "BoringSSL always offers every TLS 1.3 cipher suite and cannot remove " + refused +
                                      "; disable TLS 1.3 instead, or build berth with OpenSSL");
#else
        const std::string list = detail::join_suite_names(listener, TlsVersion::tls13);
        if (list.empty())
            return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                  "every TLS 1.3 cipher suite is disabled");
        if (!SSL_CTX_set_ciphersuites(ctx, list.c_str()))
            return detail::refuse(failure, NetError::tls_configuration, Field::tls_disable_cipher_suites,
                                  "TLS 1.3 suites \"" + list + "\": " + detail::take_tls_library_error());
#endif
    }
    return context;
}

}  // namespace berth
