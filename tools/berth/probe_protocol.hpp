#pragma once
// What `berth probe` knows of each protocol, as a client: the greeting it expects, the busy lines of the
// overload policy (SPEC §5), how to ask for capabilities and whether STARTTLS is among them, and how to
// ask for the upgrade. Pure functions over text, header-only, so tests use them without sockets.

#include <cctype>
#include <cstddef>
#include <string_view>
#include <vector>

#include "berth/model/protocol.hpp"

namespace berth::probe {

/// The complete lines (CRLF or LF) at the start of `buffer`, without their line endings.
inline std::vector<std::string_view> complete_lines(std::string_view buffer) {
    std::vector<std::string_view> lines;
    for (std::size_t nl = buffer.find('\n'); nl != std::string_view::npos; nl = buffer.find('\n')) {
        std::string_view line = buffer.substr(0, nl);
        if (line.ends_with('\r')) line.remove_suffix(1);
        lines.push_back(line);
        buffer.remove_prefix(nl + 1);
    }
    return lines;
}

namespace detail {

inline bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(text[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

inline bool equals_nocase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && starts_with_nocase(a, b);
}

/// SMTP and LMTP replies end with the line whose code is followed by a space (or nothing).
inline bool smtp_reply_complete(std::string_view buffer) {
    for (const auto line : complete_lines(buffer))
        if (line.size() == 3 || (line.size() > 3 && line[3] == ' ')) return true;
    return false;
}

/// A ManageSieve response ends with an OK, NO or BYE line (RFC 5804 §1.2).
inline bool sieve_response_complete(std::string_view buffer) {
    for (const auto line : complete_lines(buffer))
        if (starts_with_nocase(line, "OK") || starts_with_nocase(line, "NO") || starts_with_nocase(line, "BYE"))
            return true;
    return false;
}

inline bool line_with_prefix(std::string_view buffer, std::string_view prefix) {
    for (const auto line : complete_lines(buffer))
        if (starts_with_nocase(line, prefix)) return true;
    return false;
}

/// `word` is one of the space-separated words of `text`, ignoring case.
inline bool has_word(std::string_view text, std::string_view word) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ') ++i;
        std::size_t end = i;
        while (end < text.size() && text[end] != ' ') ++end;
        if (end > i && equals_nocase(text.substr(i, end - i), word)) return true;
        i = end;
    }
    return false;
}

/// The status code of an HTTP/1.x status line, or 0.
inline int http_status(std::string_view line) {
    if (!starts_with_nocase(line, "HTTP/1.") || line.size() < 12 || line[8] != ' ') return 0;
    int code = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

}  // namespace detail

/// True for the protocols that greet before the client says anything.
inline bool greets_first(Protocol protocol) { return protocol != Protocol::http; }

/// HTTP waits for the client: the request the probe sends to get an answer. Empty for the others.
inline std::string_view opening_request(Protocol protocol) {
    return protocol == Protocol::http ? "GET / HTTP/1.0\r\n\r\n" : "";
}

/// The greeting (or the status line, for HTTP) has arrived in full: SMTP's last `220 ` line, IMAP's and
/// POP3's first line, ManageSieve's capabilities up to `OK`/`NO`/`BYE`, HTTP's status line. A busy
/// line is complete by the same rule.
inline bool greeting_complete(Protocol protocol, std::string_view buffer) {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return detail::smtp_reply_complete(buffer);
    case Protocol::manage_sieve: return detail::sieve_response_complete(buffer);
    case Protocol::imap:
    case Protocol::pop3:
    case Protocol::http: return !complete_lines(buffer).empty();
    }
    return false;
}

enum class FirstBytes : unsigned char {
    tls_record,  ///< a TLS record header (the server spoke TLS first)
    greeting,    ///< the protocol's greeting (for HTTP: a response other than 503)
    busy,        ///< the protocol's refusal: 421, * BYE, -ERR, BYE, HTTP 503
    other,       ///< anything else
};

/// What the first bytes a server sent are.
inline FirstBytes classify_first_bytes(Protocol protocol, std::string_view bytes) {
    using detail::starts_with_nocase;
    if (bytes.empty()) return FirstBytes::other;
    // A TLS record starts with its content type (20-23) and the major version 3.
    const auto type = static_cast<unsigned char>(bytes[0]);
    if (type >= 20 && type <= 23 && (bytes.size() < 2 || bytes[1] == '\x03')) return FirstBytes::tls_record;
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp:
        if (bytes.starts_with("220")) return FirstBytes::greeting;
        if (bytes.starts_with("421")) return FirstBytes::busy;
        return FirstBytes::other;
    case Protocol::imap:
        if (starts_with_nocase(bytes, "* OK") || starts_with_nocase(bytes, "* PREAUTH")) return FirstBytes::greeting;
        if (starts_with_nocase(bytes, "* BYE")) return FirstBytes::busy;
        return FirstBytes::other;
    case Protocol::pop3:
        if (bytes.starts_with("+OK")) return FirstBytes::greeting;
        if (bytes.starts_with("-ERR")) return FirstBytes::busy;
        return FirstBytes::other;
    case Protocol::manage_sieve:
        if (bytes.starts_with('"') || starts_with_nocase(bytes, "OK")) return FirstBytes::greeting;
        if (starts_with_nocase(bytes, "BYE")) return FirstBytes::busy;
        return FirstBytes::other;
    case Protocol::http: {
        const auto lines = complete_lines(bytes);
        const int status = detail::http_status(lines.empty() ? bytes : lines.front());
        if (status == 503) return FirstBytes::busy;
        return status != 0 ? FirstBytes::greeting : FirstBytes::other;
    }
    }
    return FirstBytes::other;
}

/// How the expected greeting starts, for messages ("220", "* OK", ...).
inline std::string_view expected_greeting(Protocol protocol) {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return "220";
    case Protocol::imap: return "* OK";
    case Protocol::pop3: return "+OK";
    case Protocol::manage_sieve: return "a capability line or OK";
    case Protocol::http: return "HTTP/1.";
    }
    return "";
}

/// The command that lists the capabilities (`EHLO`, `LHLO`, `CAPABILITY`, `CAPA`), or empty when the
/// greeting lists them (ManageSieve) or the protocol has no STARTTLS (HTTP).
inline std::string_view capability_command(Protocol protocol) {
    switch (protocol) {
    case Protocol::smtp: return "EHLO probe.invalid\r\n";
    case Protocol::lmtp: return "LHLO probe.invalid\r\n";
    case Protocol::imap: return "a1 CAPABILITY\r\n";
    case Protocol::pop3: return "CAPA\r\n";
    case Protocol::manage_sieve:
    case Protocol::http: return "";
    }
    return "";
}

/// The word for the capability list in messages: "EHLO", "LHLO", "CAPABILITY", "CAPA", "greeting".
inline std::string_view capability_source(Protocol protocol) {
    switch (protocol) {
    case Protocol::smtp: return "EHLO";
    case Protocol::lmtp: return "LHLO";
    case Protocol::imap: return "CAPABILITY";
    case Protocol::pop3: return "CAPA";
    case Protocol::manage_sieve: return "greeting";
    case Protocol::http: return "";
    }
    return "";
}

/// The answer to capability_command (or the greeting, for ManageSieve) is complete.
inline bool capability_reply_complete(Protocol protocol, std::string_view reply) {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return detail::smtp_reply_complete(reply);
    case Protocol::imap: return detail::line_with_prefix(reply, "a1 ");
    case Protocol::pop3: {
        const auto lines = complete_lines(reply);
        if (!lines.empty() && lines.front().starts_with("-ERR")) return true;
        for (const auto line : lines)
            if (line == ".") return true;
        return false;
    }
    case Protocol::manage_sieve: return detail::sieve_response_complete(reply);
    case Protocol::http: return true;
    }
    return true;
}

/// The capability list advertises STARTTLS (`250-STARTTLS`, `* CAPABILITY ... STARTTLS`, `STLS`,
/// `"STARTTLS"`).
inline bool advertises_starttls(Protocol protocol, std::string_view reply) {
    using detail::equals_nocase;
    using detail::starts_with_nocase;
    for (const auto line : complete_lines(reply)) {
        switch (protocol) {
        case Protocol::smtp:
        case Protocol::lmtp:
            // Each 250 line after the first names one extension, its first word.
            if (line.size() > 4 && line.starts_with("250") && (line[3] == '-' || line[3] == ' ')) {
                const std::string_view text = line.substr(4);
                if (equals_nocase(text.substr(0, text.find(' ')), "STARTTLS")) return true;
            }
            break;
        case Protocol::imap:
            if (starts_with_nocase(line, "* CAPABILITY ") && detail::has_word(line.substr(13), "STARTTLS")) return true;
            break;
        case Protocol::pop3:
            if (equals_nocase(line, "STLS") || starts_with_nocase(line, "STLS ")) return true;
            break;
        case Protocol::manage_sieve:
            if (starts_with_nocase(line, "\"STARTTLS\"")) return true;
            break;
        case Protocol::http: return false;
        }
    }
    return false;
}

/// The command that asks for TLS (`STARTTLS`, `a2 STARTTLS`, `STLS`).
inline std::string_view starttls_command(Protocol protocol) {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp:
    case Protocol::manage_sieve: return "STARTTLS\r\n";
    case Protocol::imap: return "a2 STARTTLS\r\n";
    case Protocol::pop3: return "STLS\r\n";
    case Protocol::http: return "";
    }
    return "";
}

inline bool starttls_reply_complete(Protocol protocol, std::string_view reply) {
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return detail::smtp_reply_complete(reply);
    case Protocol::imap: return detail::line_with_prefix(reply, "a2 ");
    case Protocol::pop3: return !complete_lines(reply).empty();
    case Protocol::manage_sieve: return detail::sieve_response_complete(reply);
    case Protocol::http: return true;
    }
    return true;
}

/// The server agreed to start TLS (`220`, `a2 OK`, `+OK`, `OK`).
inline bool starttls_accepted(Protocol protocol, std::string_view reply) {
    const auto lines = complete_lines(reply);
    if (lines.empty()) return false;
    switch (protocol) {
    case Protocol::smtp:
    case Protocol::lmtp: return lines.back().starts_with("220");
    case Protocol::imap:
        for (const auto line : lines)
            if (detail::starts_with_nocase(line, "a2 OK")) return true;
        return false;
    case Protocol::pop3: return lines.front().starts_with("+OK");
    case Protocol::manage_sieve: return detail::starts_with_nocase(lines.back(), "OK");
    case Protocol::http: return false;
    }
    return false;
}

/// A plaintext command a client would send first (for "no PROXY header from a trusted peer is closed").
inline std::string_view first_command(Protocol protocol) {
    switch (protocol) {
    case Protocol::manage_sieve: return "CAPABILITY\r\n";
    case Protocol::http: return opening_request(protocol);
    case Protocol::smtp:
    case Protocol::lmtp:
    case Protocol::imap:
    case Protocol::pop3: return capability_command(protocol);
    }
    return "";
}

}  // namespace berth::probe
