#pragma once
// TlsVersion and TlsCipherSuite: the TLS settings' names on each surface and in OpenSSL (SPEC §2.5).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "berth/model/parsed.hpp"
#include "berth/model/suggest.hpp"

namespace berth {

enum class TlsVersion : std::uint8_t { tls12, tls13 };

enum class TlsCipherSuite : std::uint8_t {
    tls13_aes_256_gcm_sha384,
    tls13_aes_128_gcm_sha256,
    tls13_chacha20_poly1305_sha256,
    ecdhe_ecdsa_aes_256_gcm_sha384,
    ecdhe_ecdsa_aes_128_gcm_sha256,
    ecdhe_ecdsa_chacha20_poly1305_sha256,
    ecdhe_rsa_aes_256_gcm_sha384,
    ecdhe_rsa_aes_128_gcm_sha256,
    ecdhe_rsa_chacha20_poly1305_sha256,
};

namespace detail {

struct TlsVersionNames {
    TlsVersion version;
    std::string_view json;
    std::string_view toml;         // the name Stalwart's TOML reader accepts and berth prints
    std::string_view toml_number;  // the other TOML spelling: the version number on the wire
};

inline constexpr std::array<TlsVersionNames, 2> tls_version_names{{
    {TlsVersion::tls12, "tls12", "TLSv1.2", "0x0303"},
    {TlsVersion::tls13, "tls13", "TLSv1.3", "0x0304"},
}};

inline constexpr std::array<TlsVersion, 2> all_tls_version_values{TlsVersion::tls12, TlsVersion::tls13};

/// Versions berth never offers (SPEC §5), so disabling them is a mistake worth its own message.
inline constexpr std::array<std::string_view, 16> obsolete_tls_versions{
    "SSLv2",  "SSLv3",  "TLSv1",  "TLSv1.0", "TLSv1.1", "0x0200",  "0x0300",  "0x0301",
    "0x0302", "ssl3",   "tls1",   "tls10",   "tls11",   "TLSv1_0", "TLSv1_1", "TLS1.1",
};

struct CipherSuiteNames {
    TlsCipherSuite suite;
    std::string_view json;
    std::string_view toml;
    std::string_view openssl;
    TlsVersion version;
};

inline constexpr std::array<CipherSuiteNames, 9> cipher_suite_names{{
    {TlsCipherSuite::tls13_aes_256_gcm_sha384, "tls13-aes-256-gcm-sha384", "TLS13_AES_256_GCM_SHA384",
     "TLS_AES_256_GCM_SHA384", TlsVersion::tls13},
    {TlsCipherSuite::tls13_aes_128_gcm_sha256, "tls13-aes-128-gcm-sha256", "TLS13_AES_128_GCM_SHA256",
     "TLS_AES_128_GCM_SHA256", TlsVersion::tls13},
    {TlsCipherSuite::tls13_chacha20_poly1305_sha256, "tls13-chacha20-poly1305-sha256",
     "TLS13_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", TlsVersion::tls13},
    {TlsCipherSuite::ecdhe_ecdsa_aes_256_gcm_sha384, "tls-ecdhe-ecdsa-with-aes-256-gcm-sha384",
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", TlsVersion::tls12},
    {TlsCipherSuite::ecdhe_ecdsa_aes_128_gcm_sha256, "tls-ecdhe-ecdsa-with-aes-128-gcm-sha256",
     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", TlsVersion::tls12},
    {TlsCipherSuite::ecdhe_ecdsa_chacha20_poly1305_sha256, "tls-ecdhe-ecdsa-with-chacha20-poly1305-sha256",
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", TlsVersion::tls12},
    {TlsCipherSuite::ecdhe_rsa_aes_256_gcm_sha384, "tls-ecdhe-rsa-with-aes-256-gcm-sha384",
     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", TlsVersion::tls12},
    {TlsCipherSuite::ecdhe_rsa_aes_128_gcm_sha256, "tls-ecdhe-rsa-with-aes-128-gcm-sha256",
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", TlsVersion::tls12},
    {TlsCipherSuite::ecdhe_rsa_chacha20_poly1305_sha256, "tls-ecdhe-rsa-with-chacha20-poly1305-sha256",
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", TlsVersion::tls12},
}};

inline constexpr std::array<TlsCipherSuite, 9> all_cipher_suite_values{
    TlsCipherSuite::tls13_aes_256_gcm_sha384,       TlsCipherSuite::tls13_aes_128_gcm_sha256,
    TlsCipherSuite::tls13_chacha20_poly1305_sha256, TlsCipherSuite::ecdhe_ecdsa_aes_256_gcm_sha384,
    TlsCipherSuite::ecdhe_ecdsa_aes_128_gcm_sha256, TlsCipherSuite::ecdhe_ecdsa_chacha20_poly1305_sha256,
    TlsCipherSuite::ecdhe_rsa_aes_256_gcm_sha384,   TlsCipherSuite::ecdhe_rsa_aes_128_gcm_sha256,
    TlsCipherSuite::ecdhe_rsa_chacha20_poly1305_sha256,
};

inline ValueError unknown_tls_version(std::string_view text, bool json) {
    const std::string shown = quote_text(text);
    const std::string tls12 = "`" + std::string(json ? "tls12" : "TLSv1.2") + "`";
    const std::string tls13 = "`" + std::string(json ? "tls13" : "TLSv1.3") + "`";
    for (std::string_view obsolete : obsolete_tls_versions)
        if (equal_ignoring_ascii_case(text, obsolete))
            return ValueError{"tls.unknown-version",
                              shown + " is never offered (berth speaks only TLS 1.2 and 1.3), so it cannot be disabled",
                              "remove it; only " + tls12 + " and " + tls13 + " can be disabled"};

    std::array<Spelling, 3 * tls_version_names.size()> spellings{};
    std::size_t count = 0;
    for (const auto& names : tls_version_names) {
        const std::string_view own = json ? names.json : names.toml;
        spellings[count++] = {names.toml, own};
        spellings[count++] = {names.json, own};
        spellings[count++] = {names.toml_number, own};
    }
    const auto suggestion = suggest_spelling(text, spellings);
    std::string hint = suggestion ? "did you mean `" + std::string(*suggestion) + "`?"
                                  : "use " + tls12 + " or " + tls13 + (json ? "" : " (or `0x0303`, `0x0304`)");
    return ValueError{"tls.unknown-version", "unknown TLS version " + shown + " (names are case-sensitive)",
                      std::move(hint)};
}

inline ValueError unknown_cipher_suite(std::string_view text, bool json) {
    std::array<Spelling, 3 * cipher_suite_names.size()> spellings{};
    std::size_t count = 0;
    for (const auto& names : cipher_suite_names) {
        const std::string_view own = json ? names.json : names.toml;
        spellings[count++] = {own, own};
        spellings[count++] = {json ? names.toml : names.json, own};
        spellings[count++] = {names.openssl, own};
    }
    const auto suggestion = suggest_spelling(text, spellings);
    std::string hint;
    if (suggestion) {
        hint = "did you mean `" + std::string(*suggestion) + "`?";
    } else {
        hint = "use one of: ";
        for (const auto& names : cipher_suite_names) {
            if (&names != &cipher_suite_names.front()) hint += ", ";
            hint += json ? names.json : names.toml;
        }
    }
    return ValueError{"tls.unknown-cipher", "unknown cipher suite " + quote_text(text) + " (names are case-sensitive)",
                      std::move(hint)};
}

}  // namespace detail

/// Both versions, TLS 1.2 first.
constexpr std::span<const TlsVersion> all_tls_versions() noexcept { return detail::all_tls_version_values; }
/// Every suite, the three TLS 1.3 suites first.
constexpr std::span<const TlsCipherSuite> all_cipher_suites() noexcept { return detail::all_cipher_suite_values; }

/// `tls12`, `tls13`; empty for a value outside the enum.
constexpr std::string_view json_name(TlsVersion version) noexcept {
    for (const auto& names : detail::tls_version_names)
        if (names.version == version) return names.json;
    return {};
}
/// `TLSv1.2`, `TLSv1.3`; empty for a value outside the enum.
constexpr std::string_view toml_name(TlsVersion version) noexcept {
    for (const auto& names : detail::tls_version_names)
        if (names.version == version) return names.toml;
    return {};
}
/// `tls13-aes-256-gcm-sha384`, `tls-ecdhe-rsa-with-aes-128-gcm-sha256`, ...; empty outside the enum.
constexpr std::string_view json_name(TlsCipherSuite suite) noexcept {
    for (const auto& names : detail::cipher_suite_names)
        if (names.suite == suite) return names.json;
    return {};
}
/// `TLS13_AES_256_GCM_SHA384`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, ...; empty outside the enum.
constexpr std::string_view toml_name(TlsCipherSuite suite) noexcept {
    for (const auto& names : detail::cipher_suite_names)
        if (names.suite == suite) return names.toml;
    return {};
}
/// The name OpenSSL and BoringSSL use: `TLS_AES_256_GCM_SHA384`, `ECDHE-ECDSA-AES256-GCM-SHA384`, ...
constexpr std::string_view openssl_name(TlsCipherSuite suite) noexcept {
    for (const auto& names : detail::cipher_suite_names)
        if (names.suite == suite) return names.openssl;
    return {};
}
/// The TLS version a suite belongs to.
constexpr TlsVersion version_of(TlsCipherSuite suite) noexcept {
    for (const auto& names : detail::cipher_suite_names)
        if (names.suite == suite) return names.version;
    return TlsVersion::tls12;
}

/// TOML: exactly `TLSv1.2` or `0x0303`, `TLSv1.3` or `0x0304`, as Stalwart reads them.
inline Parsed<TlsVersion> parse_tls_version_toml(std::string_view text) {
    for (const auto& names : detail::tls_version_names)
        if (text == names.toml || text == names.toml_number) return names.version;
    return detail::unknown_tls_version(text, false);
}
/// JSON: exactly `tls12` or `tls13`.
inline Parsed<TlsVersion> parse_tls_version_json(std::string_view text) {
    for (const auto& names : detail::tls_version_names)
        if (text == names.json) return names.version;
    return detail::unknown_tls_version(text, true);
}
/// TOML: exactly one of the upper-case names of SPEC §2.5.
inline Parsed<TlsCipherSuite> parse_cipher_suite_toml(std::string_view text) {
    for (const auto& names : detail::cipher_suite_names)
        if (text == names.toml) return names.suite;
    return detail::unknown_cipher_suite(text, false);
}
/// JSON: exactly one of the TlsCipherSuite enum's names.
inline Parsed<TlsCipherSuite> parse_cipher_suite_json(std::string_view text) {
    for (const auto& names : detail::cipher_suite_names)
        if (text == names.json) return names.suite;
    return detail::unknown_cipher_suite(text, true);
}

}  // namespace berth
