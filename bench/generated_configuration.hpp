#pragma once
// The configuration the resolution benchmarks read: shared by berth_bench (times) and load_once
// (instruction counts), so that both measure the same text.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "berth/model/resolve.hpp"

namespace berth::bench {

inline constexpr std::array<std::string_view, 6> protocol_names{"smtp", "imap", "pop3", "lmtp", "managesieve", "http"};

/// A valid configuration of `listeners` listeners that exercises what a real one does: server-wide defaults
/// that every listener inherits, two bind addresses each, every protocol, and some per-listener overrides of
/// TLS, the connection limit and the PROXY trusted networks. Ports are distinct, so no bind is a duplicate.
inline std::string configuration_text(std::size_t listeners) {
    std::string text =
        "[server]\n"
        "max-connections = 8192\n"
        "\n"
        "[server.socket]\n"
        "backlog = 1024\n"
        "nodelay = true\n"
        "\n"
        "[server.tls]\n"
        "timeout = \"1m\"\n"
        "disable-protocols = [\"TLSv1.2\"]\n"
        "\n"
        "[server.proxy]\n"
        "trusted-networks = [\"10.0.0.0/8\", \"fd00::/8\"]\n";
    text.reserve(text.size() + listeners * 160);
    for (std::size_t i = 0; i < listeners; ++i) {
        const std::string port = std::to_string(20000 + i);
        text += "\n[server.listener.l" + std::to_string(i) + "]\n";
        text += "bind = [\"127.0.0.1:" + port + "\", \"[::1]:" + port + "\"]\n";
        text += "protocol = \"" + std::string(protocol_names[i % protocol_names.size()]) + "\"\n";
        if (i % 3 == 0) text += "tls.implicit = true\n";
        if (i % 5 == 0) text += "proxy.trusted-networks = [\"192.168.0.0/16\"]\n";
        if (i % 7 == 0) text += "max-connections = 512\n";
    }
    return text;
}

inline ResolveOptions fixed_resolve_options() {
    ResolveOptions options;
    options.somaxconn = 4096;  // fixed, so the host's /proc is not read on every iteration
    return options;
}

}  // namespace berth::bench
