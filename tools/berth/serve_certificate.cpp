// Reads Stalwart's certificate tables for `berth serve` (built only with berth::net).
#if BERTH_CLI_SERVE
#include "serve_certificate.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "berth/config/toml_safe.hpp"

namespace berth::serve {

namespace {

/// A value as Stalwart writes it: PEM text, or `%{file:PATH}%` (PATH may itself use `%{env:NAME}%`).
std::optional<std::string> resolve_value(std::string value, std::string& error) {
    for (std::size_t at; (at = value.find("%{env:")) != std::string::npos;) {
        const auto end = value.find("}%", at);
        if (end == std::string::npos) break;
        const std::string name = value.substr(at + 6, end - at - 6);
        const char* v = std::getenv(name.c_str());
        if (!v) {
            error = "environment variable " + name + " is not set";
            return std::nullopt;
        }
        value.replace(at, end + 2 - at, v);
    }
    if (value.starts_with("%{file:") && value.ends_with("}%")) {
        const std::string path = value.substr(7, value.size() - 9);
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            error = "cannot read " + path;
            return std::nullopt;
        }
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return value;
}

}  // namespace

std::optional<CertificateChoice> certificate_from_toml(std::string_view toml_text, std::string& error) {
#if TOML_EXCEPTIONS
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string_view{"config.toml"});
    } catch (const toml::parse_error&) {
        return std::nullopt;  // the configuration's own diagnostics say why
    }
#else
    auto parsed = toml::parse(toml_text, std::string_view{"config.toml"});
    if (!parsed) return std::nullopt;
    const toml::table& root = parsed.table();
#endif
    const auto* certificates = root["certificate"].as_table();
    if (!certificates) return std::nullopt;
    for (auto&& [id, node] : *certificates) {
        const auto* table = node.as_table();
        if (!table) continue;
        const std::string name = "certificate." + std::string(id.str());
        const auto cert = (*table)["cert"].value<std::string>();
        const auto key = (*table)["private-key"].value<std::string>();
        if (!cert || !key) {
            error = name + " needs both cert and private-key";
            return std::nullopt;
        }
        auto chain_pem = resolve_value(*cert, error);
        if (!chain_pem) {
            error = name + ".cert: " + error;
            return std::nullopt;
        }
        auto key_pem = resolve_value(*key, error);
        if (!key_pem) {
            error = name + ".private-key: " + error;
            return std::nullopt;
        }
        return CertificateChoice{PemCertificate::from_memory(std::move(*chain_pem), std::move(*key_pem)), name};
    }
    return std::nullopt;
}

}  // namespace berth::serve

#endif  // BERTH_CLI_SERVE
