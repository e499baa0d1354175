#include <berth/model/tls.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <set>
#include <string>
#include <string_view>

using berth::TlsCipherSuite;
using berth::TlsVersion;

static_assert(berth::toml_name(TlsVersion::tls12) == "TLSv1.2");
static_assert(berth::version_of(TlsCipherSuite::tls13_chacha20_poly1305_sha256) == TlsVersion::tls13);
static_assert(berth::all_cipher_suites().size() == 9);

TEST_CASE("all_tls_versions and all_cipher_suites list every enumerator once, in order", "[tls]") {
    const auto versions = berth::all_tls_versions();
    REQUIRE(versions.size() == 2);
    CHECK(versions[0] == TlsVersion::tls12);
    CHECK(versions[1] == TlsVersion::tls13);
    const auto suites = berth::all_cipher_suites();
    REQUIRE(suites.size() == 9);
    for (std::size_t i = 0; i < suites.size(); ++i) CHECK(static_cast<std::size_t>(suites[i]) == i);
}

TEST_CASE("version names of SPEC §2.5", "[tls]") {
    CHECK(berth::json_name(TlsVersion::tls12) == "tls12");
    CHECK(berth::json_name(TlsVersion::tls13) == "tls13");
    CHECK(berth::toml_name(TlsVersion::tls12) == "TLSv1.2");
    CHECK(berth::toml_name(TlsVersion::tls13) == "TLSv1.3");
    CHECK(berth::parse_tls_version_toml("TLSv1.2").value() == TlsVersion::tls12);
    CHECK(berth::parse_tls_version_toml("0x0303").value() == TlsVersion::tls12);
    CHECK(berth::parse_tls_version_toml("TLSv1.3").value() == TlsVersion::tls13);
    CHECK(berth::parse_tls_version_toml("0x0304").value() == TlsVersion::tls13);
    CHECK(berth::parse_tls_version_json("tls12").value() == TlsVersion::tls12);
    CHECK(berth::parse_tls_version_json("tls13").value() == TlsVersion::tls13);
    CHECK(berth::json_name(static_cast<TlsVersion>(9)).empty());
}

TEST_CASE("version names are exact on both surfaces", "[tls][errors]") {
    for (std::string_view text : {"tlsv1.2", "TLSV1.2", "TLSv1.2 ", "0X0303", "0x303", "TLS1.2", "tls12", "1.2", ""}) {
        const auto parsed = berth::parse_tls_version_toml(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "tls.unknown-version");
    }
    for (std::string_view text : {"TLS12", "TLSv1.2", "0x0303", "tls1.2", "tls-12", "tls14", ""}) {
        const auto parsed = berth::parse_tls_version_json(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "tls.unknown-version");
    }
}

TEST_CASE("a version given in the other surface's spelling suggests this surface's", "[tls][errors]") {
    CHECK(berth::parse_tls_version_json("TLSv1.2").error().hint == "did you mean `tls12`?");
    CHECK(berth::parse_tls_version_json("0x0304").error().hint == "did you mean `tls13`?");
    CHECK(berth::parse_tls_version_toml("tls13").error().hint == "did you mean `TLSv1.3`?");
    CHECK(berth::parse_tls_version_toml("tlsv1.2").error().hint == "did you mean `TLSv1.2`?");
    CHECK(berth::parse_tls_version_json("TLS12").error().hint == "did you mean `tls12`?");
}

TEST_CASE("an obsolete version gets its own explanation, not a misleading suggestion", "[tls][errors]") {
    for (std::string_view text : {"TLSv1.1", "TLSv1.0", "TLSv1", "SSLv3", "0x0301", "0x0302", "tls11", "tls10"}) {
        const auto toml = berth::parse_tls_version_toml(text).error();
        CHECK(toml.code == "tls.unknown-version");
        CHECK_THAT(toml.message, Catch::Matchers::ContainsSubstring("never offered"));
        CHECK(toml.hint == "remove it; only `TLSv1.2` and `TLSv1.3` can be disabled");
        CHECK(berth::parse_tls_version_json(text).error().hint == "remove it; only `tls12` and `tls13` can be disabled");
    }
}

TEST_CASE("cipher suite names of SPEC §2.5, and OpenSSL's", "[tls]") {
    using S = TlsCipherSuite;
    CHECK(berth::json_name(S::tls13_aes_256_gcm_sha384) == "tls13-aes-256-gcm-sha384");
    CHECK(berth::toml_name(S::tls13_aes_256_gcm_sha384) == "TLS13_AES_256_GCM_SHA384");
    CHECK(berth::openssl_name(S::tls13_aes_256_gcm_sha384) == "TLS_AES_256_GCM_SHA384");
    CHECK(berth::json_name(S::tls13_aes_128_gcm_sha256) == "tls13-aes-128-gcm-sha256");
    CHECK(berth::openssl_name(S::tls13_aes_128_gcm_sha256) == "TLS_AES_128_GCM_SHA256");
    CHECK(berth::json_name(S::tls13_chacha20_poly1305_sha256) == "tls13-chacha20-poly1305-sha256");
    CHECK(berth::openssl_name(S::tls13_chacha20_poly1305_sha256) == "TLS_CHACHA20_POLY1305_SHA256");
    CHECK(berth::json_name(S::ecdhe_ecdsa_aes_256_gcm_sha384) == "tls-ecdhe-ecdsa-with-aes-256-gcm-sha384");
    CHECK(berth::toml_name(S::ecdhe_ecdsa_aes_256_gcm_sha384) == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    CHECK(berth::openssl_name(S::ecdhe_ecdsa_aes_256_gcm_sha384) == "ECDHE-ECDSA-AES256-GCM-SHA384");
    CHECK(berth::openssl_name(S::ecdhe_ecdsa_aes_128_gcm_sha256) == "ECDHE-ECDSA-AES128-GCM-SHA256");
    CHECK(berth::openssl_name(S::ecdhe_ecdsa_chacha20_poly1305_sha256) == "ECDHE-ECDSA-CHACHA20-POLY1305");
    CHECK(berth::json_name(S::ecdhe_rsa_chacha20_poly1305_sha256) == "tls-ecdhe-rsa-with-chacha20-poly1305-sha256");
    CHECK(berth::toml_name(S::ecdhe_rsa_chacha20_poly1305_sha256) == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    CHECK(berth::openssl_name(S::ecdhe_rsa_aes_256_gcm_sha384) == "ECDHE-RSA-AES256-GCM-SHA384");
    CHECK(berth::openssl_name(S::ecdhe_rsa_aes_128_gcm_sha256) == "ECDHE-RSA-AES128-GCM-SHA256");
    CHECK(berth::openssl_name(S::ecdhe_rsa_chacha20_poly1305_sha256) == "ECDHE-RSA-CHACHA20-POLY1305");
    CHECK(berth::openssl_name(static_cast<S>(99)).empty());
}

TEST_CASE("the names are distinct and each parses back", "[tls]") {
    std::set<std::string_view> json, toml, openssl;
    for (TlsCipherSuite suite : berth::all_cipher_suites()) {
        json.insert(berth::json_name(suite));
        toml.insert(berth::toml_name(suite));
        openssl.insert(berth::openssl_name(suite));
        CHECK(berth::parse_cipher_suite_json(berth::json_name(suite)).value() == suite);
        CHECK(berth::parse_cipher_suite_toml(berth::toml_name(suite)).value() == suite);
    }
    CHECK(json.size() == 9);
    CHECK(toml.size() == 9);
    CHECK(openssl.size() == 9);
    for (TlsVersion version : berth::all_tls_versions()) {
        CHECK(berth::parse_tls_version_json(berth::json_name(version)).value() == version);
        CHECK(berth::parse_tls_version_toml(berth::toml_name(version)).value() == version);
    }
}

TEST_CASE("version_of: three TLS 1.3 suites, six TLS 1.2 suites", "[tls]") {
    int tls13 = 0;
    for (TlsCipherSuite suite : berth::all_cipher_suites()) {
        const bool is_13 = berth::json_name(suite).substr(0, 6) == "tls13-";
        CHECK((berth::version_of(suite) == TlsVersion::tls13) == is_13);
        tls13 += is_13 ? 1 : 0;
    }
    CHECK(tls13 == 3);
}

TEST_CASE("cipher names are exact and case-sensitive", "[tls][errors]") {
    for (std::string_view text : {"tls13_aes_256_gcm_sha384", "TLS_AES_256_GCM_SHA384", "tls13-aes-256-gcm-sha384", "",
                                  "TLS13_AES_256_GCM_SHA384 "}) {
        const auto parsed = berth::parse_cipher_suite_toml(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "tls.unknown-cipher");
    }
    for (std::string_view text : {"TLS13_AES_256_GCM_SHA384", "TLS13-AES-256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"}) {
        const auto parsed = berth::parse_cipher_suite_json(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().code == "tls.unknown-cipher");
    }
}

TEST_CASE("cipher did-you-mean: typos, the other surface, OpenSSL names", "[tls][errors]") {
    CHECK(berth::parse_cipher_suite_toml("TLS13_AES_256_GCM_SHA348").error().hint ==
          "did you mean `TLS13_AES_256_GCM_SHA384`?");
    CHECK(berth::parse_cipher_suite_toml("tls13-aes-256-gcm-sha384").error().hint ==
          "did you mean `TLS13_AES_256_GCM_SHA384`?");
    CHECK(berth::parse_cipher_suite_json("TLS13_AES_256_GCM_SHA384").error().hint ==
          "did you mean `tls13-aes-256-gcm-sha384`?");
    CHECK(berth::parse_cipher_suite_json("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").error().hint ==
          "did you mean `tls-ecdhe-rsa-with-aes-128-gcm-sha256`?");
    CHECK(berth::parse_cipher_suite_toml("ECDHE-ECDSA-CHACHA20-POLY1305").error().hint ==
          "did you mean `TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256`?");
    CHECK(berth::parse_cipher_suite_json("TLS_AES_128_GCM_SHA256").error().hint ==
          "did you mean `tls13-aes-128-gcm-sha256`?");
    CHECK_THAT(berth::parse_cipher_suite_toml("RC4-MD5").error().hint, Catch::Matchers::StartsWith("use one of: TLS13_AES_256"));
}

TEST_CASE("TLS names: huge and binary input", "[tls][robustness]") {
    const std::string huge(10'000'000, 'T');
    CHECK(berth::parse_cipher_suite_toml(huge).error().code == "tls.unknown-cipher");
    CHECK(berth::parse_tls_version_toml(huge).error().message.size() < 200);
    CHECK_FALSE(berth::parse_cipher_suite_json(std::string_view("tls13-aes-256-gcm-sha384\0", 25)));
    CHECK_FALSE(berth::parse_tls_version_json("\xff"));
}
