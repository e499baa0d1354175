// What a project that links berth::net gets: standalone Asio with coroutines on both compilers, and the TLS
// library berth was configured with, headers and shared library alike. Exits non-zero on a mismatch.
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/crypto.h>

#include <cstdio>
#include <exception>
#include <string_view>

#if !defined(BERTH_TLS_BORINGSSL) && !defined(BERTH_TLS_OPENSSL)
#error "berth::net defines BERTH_TLS_BORINGSSL or BERTH_TLS_OPENSSL"
#endif
#if defined(BERTH_TLS_BORINGSSL) != defined(OPENSSL_IS_BORINGSSL)
#error "<openssl/*.h> come from a different TLS library than berth::net was configured with"
#endif

namespace {

// asio::awaitable exists only when Asio enables co_await (clang needs ASIO_HAS_CO_AWAIT from berth::asio).
asio::awaitable<int> answer() { co_return 42; }

}  // namespace

int main() {
    int failures = 0;

    asio::io_context io;
    int answered = 0;
    asio::co_spawn(io, answer(), [&answered](const std::exception_ptr& error, int value) {
        if (!error) answered = value;
    });
    io.run();
    if (answered != 42) {
        std::printf("the coroutine did not complete with 42\n");
        ++failures;
    }

    // A TLS context needs the shared library at run time (for BoringSSL, through the rpath CMake added).
    asio::ssl::context context(asio::ssl::context::tls_server);
    const std::string_view library = OpenSSL_version(OPENSSL_VERSION);
#if defined(BERTH_TLS_BORINGSSL)
    const bool library_matches = library.starts_with("BoringSSL");
#else
    const bool library_matches = library.starts_with("OpenSSL 3");
#endif
    if (!library_matches || context.native_handle() == nullptr) {
        std::printf("the TLS library loaded at run time is %.*s\n", static_cast<int>(library.size()), library.data());
        ++failures;
    }

    if (failures == 0) {
        std::printf("berth::net with %.*s: ok\n", static_cast<int>(library.size()), library.data());
    }
    return failures == 0 ? 0 : 1;
}
