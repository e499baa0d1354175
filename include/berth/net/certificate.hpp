#pragma once
// Certificates are not part of the listener model (SPEC §5): the TLS policy receives a certificate
// source. This header has the concept, a PEM source (certificate chain and private key, from memory or
// from files) and a generator of self-signed ECDSA P-256 certificates for tests and development.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <asio/buffer.hpp>
#include <asio/ssl/context.hpp>

#include <chrono>
#include <concepts>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "berth/model/resolved_listener.hpp"
#include "berth/net/error.hpp"

namespace berth {

/// Puts a certificate chain and its private key into a listener's TLS context.
template <class S>
concept CertificateSource = requires(const S& source, asio::ssl::context& context, const ResolvedListener& listener,
                                     std::error_code& error) {
    { source.install(context, listener, error) } -> std::same_as<void>;
};

/// A certificate chain (leaf first, then intermediates) and its private key, in PEM.
class PemCertificate {
public:
    PemCertificate() = default;
    PemCertificate(std::string chain_pem, std::string key_pem)
        : chain_(std::move(chain_pem)), key_(std::move(key_pem)) {}

    static PemCertificate from_memory(std::string chain_pem, std::string key_pem) {
        return {std::move(chain_pem), std::move(key_pem)};
    }

    /// Reads both files; on failure `error` names the errno-style reason and the result is empty.
    static PemCertificate from_files(const std::string& chain_path, const std::string& key_path,
                                     std::error_code& error) {
        std::string chain, key;
        if (!read_file(chain_path, chain) || !read_file(key_path, key)) {
            error = std::make_error_code(std::errc::no_such_file_or_directory);
            return {};
        }
        error.clear();
        return {std::move(chain), std::move(key)};
    }
    static PemCertificate from_files(const std::string& chain_path, const std::string& key_path) {
        std::error_code error;
        auto certificate = from_files(chain_path, key_path, error);
        if (error) throw std::system_error(error, "berth: cannot read " + chain_path + " or " + key_path);
        return certificate;
    }

    [[nodiscard]] const std::string& chain_pem() const noexcept { return chain_; }
    [[nodiscard]] const std::string& key_pem() const noexcept { return key_; }
    [[nodiscard]] bool empty() const noexcept { return chain_.empty() || key_.empty(); }

    /// Loads the chain and the key, and checks that the key belongs to the leaf certificate.
    void install(asio::ssl::context& context, const ResolvedListener&, std::error_code& error) const {
        error.clear();
        if (empty()) {
            error = make_error_code(NetError::no_certificate);
            return;
        }
        context.use_certificate_chain(asio::buffer(chain_), error);
        if (error) return;
        context.use_private_key(asio::buffer(key_), asio::ssl::context::pem, error);
        if (error) return;
        if (SSL_CTX_check_private_key(context.native_handle()) != 1)
            error = make_error_code(NetError::tls_configuration);
    }

private:
    static bool read_file(const std::string& path, std::string& out) {
        std::ifstream in(path, std::ios::binary);
        if (!in) return false;
        std::ostringstream text;
        text << in.rdbuf();
        out = text.str();
        return !out.empty();
    }

    std::string chain_;
    std::string key_;
};

static_assert(CertificateSource<PemCertificate>);

namespace detail {

struct PkeyCtxFree { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const noexcept { X509_free(p); } };
struct X509ExtensionFree { void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); } };
struct BioFree { void operator()(BIO* p) const noexcept { BIO_free(p); } };
struct BnFree { void operator()(BIGNUM* p) const noexcept { BN_free(p); } };

inline std::string drain_bio(BIO* bio) {
    std::string text(static_cast<std::size_t>(BIO_pending(bio)), '\0');
    if (!text.empty() && BIO_read(bio, text.data(), static_cast<int>(text.size())) != static_cast<int>(text.size()))
        throw std::runtime_error("berth: cannot read the generated PEM");
    return text;
}

[[noreturn]] inline void certificate_generation_failed(const char* step) {
    throw std::runtime_error(std::string("berth: generating a self-signed certificate failed at ") + step);
}

}  // namespace detail

/// A new self-signed ECDSA P-256 certificate (SHA-256 signature, a random 64-bit serial, valid from
/// one hour ago for `validity`) for the given DNS names: the first is the subject CN, all are in the
/// subjectAltName. For tests and development; a real server loads its certificates.
[[nodiscard]] inline PemCertificate generate_self_signed_certificate(
    std::initializer_list<std::string_view> dns_names = {"localhost"},
    std::chrono::hours validity = std::chrono::hours(24 * 365)) {
    using detail::certificate_generation_failed;
    if (dns_names.size() == 0) throw std::invalid_argument("berth: a certificate needs at least one DNS name");

    std::unique_ptr<EVP_PKEY_CTX, detail::PkeyCtxFree> keygen(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
    if (!keygen || EVP_PKEY_keygen_init(keygen.get()) != 1 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(keygen.get(), NID_X9_62_prime256v1) != 1)
        certificate_generation_failed("key parameters");
    EVP_PKEY* raw_key = nullptr;
    if (EVP_PKEY_keygen(keygen.get(), &raw_key) != 1) certificate_generation_failed("key generation");
    std::unique_ptr<EVP_PKEY, detail::PkeyFree> key(raw_key);

    std::unique_ptr<X509, detail::X509Free> certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), 2) != 1) certificate_generation_failed("X509_new");

    unsigned char serial_bytes[8];
    if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) certificate_generation_failed("serial");
    serial_bytes[0] &= 0x7F;  // a positive serial number
    std::unique_ptr<BIGNUM, detail::BnFree> serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
    if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())))
        certificate_generation_failed("serial");

    const long validity_seconds = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count());
    if (!X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(certificate.get()), validity_seconds))
        certificate_generation_failed("validity");

    const std::string common_name(*dns_names.begin());
    X509_NAME* name = X509_get_subject_name(certificate.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                   -1, -1, 0) != 1 ||
        X509_set_issuer_name(certificate.get(), name) != 1 || X509_set_pubkey(certificate.get(), key.get()) != 1)
        certificate_generation_failed("subject");

    std::string alt_names;
    for (std::string_view dns : dns_names) {
        if (!alt_names.empty()) alt_names += ',';
        alt_names += "DNS:";
        alt_names += dns;
    }
    // X509V3_EXT_nconf_nid works on both libraries (BoringSSL does not export X509V3_EXT_conf_nid).
    std::unique_ptr<X509_EXTENSION, detail::X509ExtensionFree> san(
        X509V3_EXT_nconf_nid(nullptr, nullptr, NID_subject_alt_name, alt_names.c_str()));
    if (!san || X509_add_ext(certificate.get(), san.get(), -1) != 1) certificate_generation_failed("subjectAltName");

    if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0) certificate_generation_failed("signature");

    std::unique_ptr<BIO, detail::BioFree> certificate_bio(BIO_new(BIO_s_mem()));
    std::unique_ptr<BIO, detail::BioFree> key_bio(BIO_new(BIO_s_mem()));
    if (!certificate_bio || !key_bio || PEM_write_bio_X509(certificate_bio.get(), certificate.get()) != 1 ||
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        certificate_generation_failed("PEM");
    return {detail::drain_bio(certificate_bio.get()), detail::drain_bio(key_bio.get())};
}

}  // namespace berth
