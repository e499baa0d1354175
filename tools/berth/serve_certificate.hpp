#pragma once
// Where `berth serve` gets its certificate: Stalwart's `[certificate.<id>]` tables (`cert` and
// `private-key`, each PEM text or `%{file:PATH}%`), else a self-signed ECDSA P-256 certificate made at
// start. Certificates are not part of the listener model (SPEC §5): this is the CLI's certificate source.

#include <optional>
#include <string>
#include <string_view>

#include "berth/net/certificate.hpp"

namespace berth::serve {

struct CertificateChoice {
    PemCertificate certificate;
    std::string description;  ///< for the start-up line: "certificate.default" or "self-signed for localhost"
};

/// The first `[certificate.<id>]` of a TOML configuration, if it has one. On a problem (unreadable file,
/// missing key) `error` says what and the result is empty.
std::optional<CertificateChoice> certificate_from_toml(std::string_view toml_text, std::string& error);

}  // namespace berth::serve
