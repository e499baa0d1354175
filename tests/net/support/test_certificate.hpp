#pragma once
// One self-signed certificate for "localhost", made once per test process: generating a key pair for every
// test would cost more than most of the tests themselves.

#include <berth/net/certificate.hpp>

namespace berth::test {

inline const PemCertificate& localhost_certificate() {
    static const PemCertificate certificate = generate_self_signed_certificate({"localhost"});
    return certificate;
}

}  // namespace berth::test
