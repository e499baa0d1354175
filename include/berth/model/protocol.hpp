#pragma once
// Protocol: the protocol a listener serves, with its JSON and TOML spellings (SPEC §2.4).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "berth/model/parsed.hpp"
#include "berth/model/suggest.hpp"

namespace berth {

enum class Protocol : std::uint8_t { smtp, lmtp, imap, pop3, manage_sieve, http };

namespace detail {

struct ProtocolNames {
    Protocol protocol;
    std::string_view json;  // the NetworkListenerProtocol enum value
    std::string_view toml;  // the lower-case TOML spelling Stalwart's documentation uses
};

inline constexpr std::array<ProtocolNames, 6> protocol_names{{
    {Protocol::smtp, "smtp", "smtp"},
    {Protocol::lmtp, "lmtp", "lmtp"},
    {Protocol::imap, "imap", "imap"},
    {Protocol::pop3, "pop3", "pop3"},
    {Protocol::manage_sieve, "manageSieve", "managesieve"},
    {Protocol::http, "http", "http"},
}};

inline constexpr std::array<Protocol, 6> all_protocol_values{Protocol::smtp, Protocol::lmtp,         Protocol::imap,
                                                             Protocol::pop3, Protocol::manage_sieve, Protocol::http};

/// Stalwart reads `https` as HTTP in TOML (TLS is a separate setting).
inline constexpr std::string_view toml_https_alias = "https";

inline std::string protocol_list(bool json) {
    std::string list;
    for (const auto& names : protocol_names) {
        if (!list.empty()) list += ", ";
        list += json ? names.json : names.toml;
    }
    return list;
}

inline ValueError unknown_protocol(std::string_view text, bool json) {
    // Every spelling of either surface, each suggesting this surface's name.
    std::array<Spelling, 2 * protocol_names.size() + 1> spellings{};
    std::size_t count = 0;
    for (const auto& names : protocol_names) {
        const std::string_view own = json ? names.json : names.toml;
        spellings[count++] = {own, own};
        spellings[count++] = {json ? names.toml : names.json, own};
    }
    spellings[count++] = {toml_https_alias, json ? std::string_view("http") : toml_https_alias};
    const auto suggestion = suggest_spelling(text, spellings);
    std::string hint = suggestion ? "did you mean `" + std::string(*suggestion) + "`?" : std::string();
    if (!suggestion) hint = "use one of: " + protocol_list(json);
    std::string message = "unknown protocol " + quote_text(text);
    if (json) message += " (JSON names are case-sensitive)";
    return ValueError{"protocol.unknown", std::move(message), std::move(hint)};
}

}  // namespace detail

/// Every protocol, in declaration order.
constexpr std::span<const Protocol> all_protocols() noexcept { return detail::all_protocol_values; }

/// `smtp`, `lmtp`, `imap`, `pop3`, `manageSieve`, `http`; empty for a value outside the enum.
constexpr std::string_view json_name(Protocol protocol) noexcept {
    for (const auto& names : detail::protocol_names)
        if (names.protocol == protocol) return names.json;
    return {};
}

/// `smtp`, `lmtp`, `imap`, `pop3`, `managesieve`, `http`; empty for a value outside the enum.
constexpr std::string_view toml_name(Protocol protocol) noexcept {
    for (const auto& names : detail::protocol_names)
        if (names.protocol == protocol) return names.toml;
    return {};
}

/// TOML: case-insensitive, `https` is `http`. Code `protocol.unknown` with a did-you-mean.
inline Parsed<Protocol> parse_protocol_toml(std::string_view text) {
    for (const auto& names : detail::protocol_names)
        if (detail::equal_ignoring_ascii_case(text, names.toml)) return names.protocol;
    if (detail::equal_ignoring_ascii_case(text, detail::toml_https_alias)) return Protocol::http;
    return detail::unknown_protocol(text, false);
}

/// JSON: exactly the enum's names. Code `protocol.unknown`, suggesting the JSON spelling.
inline Parsed<Protocol> parse_protocol_json(std::string_view text) {
    for (const auto& names : detail::protocol_names)
        if (text == names.json) return names.protocol;
    return detail::unknown_protocol(text, true);
}

}  // namespace berth
