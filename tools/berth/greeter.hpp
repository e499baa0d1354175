#pragma once
// The small per-protocol conversation `berth serve` holds with a client: enough of SMTP/LMTP, IMAP,
// POP3, ManageSieve and HTTP for real clients (openssl s_client -starttls, swaks, curl) to greet,
// ask for capabilities, upgrade with STARTTLS when the listener allows it, and leave. A pure state
// machine over lines, so it is tested without sockets.

#include <array>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

#include "berth/model/protocol.hpp"

namespace berth::serve {

struct Reply {
    enum class Then : unsigned char { keep, start_tls, close };
    std::string text;   ///< bytes to send, CRLF-terminated lines
    Then then = Then::keep;
};

class Greeter {
public:
    /// `starttls_allowed`: the listener has useTls && !tlsImplicit (SPEC §5); `tls_active`: the
    /// connection is already TLS (implicit TLS, or after STARTTLS). `host` and `status_page` are kept
    /// as views: one copy serves every connection, so they must outlive the greeter.
    Greeter(Protocol protocol, bool starttls_allowed, bool tls_active, std::string_view host,
            std::string_view status_page = {})
        : protocol_(protocol), starttls_allowed_(starttls_allowed), tls_active_(tls_active), host_(host),
          status_page_(status_page) {}

    [[nodiscard]] std::string greeting() const {
        switch (protocol_) {
        case Protocol::smtp: return "220 " + std::string(host_) + " ESMTP berth\r\n";
        case Protocol::lmtp: return "220 " + std::string(host_) + " LMTP berth\r\n";
        case Protocol::imap: return "* OK [CAPABILITY " + imap_capabilities() + "] berth IMAP ready\r\n";
        case Protocol::pop3: return "+OK berth POP3 ready\r\n";
        case Protocol::manage_sieve: return sieve_capabilities() + "OK \"berth ManageSieve ready\"\r\n";
        case Protocol::http: return {};
        }
        return {};
    }

    /// STARTTLS is on offer right now.
    [[nodiscard]] bool offers_starttls() const noexcept { return starttls_allowed_ && !tls_active_; }

    /// Call once the TLS handshake after STARTTLS succeeded; returns what to send next (ManageSieve
    /// re-announces its capabilities, RFC 5804 §2.2; the others wait for the client).
    std::string on_tls_established() {
        tls_active_ = true;
        return protocol_ == Protocol::manage_sieve ? sieve_capabilities() + "OK \"TLS negotiation successful\"\r\n"
                                                   : std::string{};
    }

    /// One line from the client, without its line ending.
    Reply on_line(std::string_view line) {
        switch (protocol_) {
        case Protocol::smtp:
        case Protocol::lmtp: return smtp(line);
        case Protocol::imap: return imap(line);
        case Protocol::pop3: return pop3(line);
        case Protocol::manage_sieve: return sieve(line);
        case Protocol::http: return http(line);
        }
        return {{}, Reply::Then::close};
    }

private:
    Protocol protocol_;
    bool starttls_allowed_;
    bool tls_active_;
    std::string_view host_;
    std::string_view status_page_;
    bool http_request_seen_ = false;

    static std::string upper_word(std::string_view line, std::size_t& rest) {
        std::string word;
        std::size_t i = 0;
        while (i < line.size() && line[i] != ' ') word += static_cast<char>(std::toupper(static_cast<unsigned char>(line[i++])));
        rest = i < line.size() ? i + 1 : i;
        return word;
    }

    Reply smtp(std::string_view line) {
        std::size_t rest = 0;
        const std::string verb = upper_word(line, rest);
        const bool lmtp = protocol_ == Protocol::lmtp;
        if ((!lmtp && (verb == "EHLO" || verb == "HELO")) || (lmtp && verb == "LHLO")) {
            if (verb == "HELO") return {"250 " + std::string(host_) + "\r\n"};
            std::string out = "250-" + std::string(host_) + " greets " + std::string(line.substr(rest)) + "\r\n";
            if (offers_starttls()) out += "250-STARTTLS\r\n";
            return {out + "250-PIPELINING\r\n250 8BITMIME\r\n"};
        }
        if (verb == "STARTTLS") {
            if (!offers_starttls()) return {"502 5.5.1 STARTTLS not available\r\n"};
            return {"220 2.0.0 Ready to start TLS\r\n", Reply::Then::start_tls};
        }
        if (verb == "QUIT") return {"221 2.0.0 Bye\r\n", Reply::Then::close};
        if (verb == "NOOP" || verb == "RSET") return {"250 2.0.0 OK\r\n"};
        return {"502 5.5.2 Command not implemented\r\n"};
    }

    [[nodiscard]] std::string imap_capabilities() const {
        return offers_starttls() ? "IMAP4rev1 STARTTLS LOGINDISABLED" : "IMAP4rev1 LOGINDISABLED";
    }

    Reply imap(std::string_view line) {
        const auto space = line.find(' ');
        if (space == std::string_view::npos || space == 0) return {"* BAD Missing tag or command\r\n"};
        const std::string tag(line.substr(0, space));
        std::size_t rest = 0;
        const std::string verb = upper_word(line.substr(space + 1), rest);
        if (verb == "CAPABILITY")
            return {"* CAPABILITY " + imap_capabilities() + "\r\n" + tag + " OK CAPABILITY completed\r\n"};
        if (verb == "STARTTLS") {
            if (!offers_starttls()) return {tag + " BAD STARTTLS not available\r\n"};
            return {tag + " OK Begin TLS negotiation now\r\n", Reply::Then::start_tls};
        }
        if (verb == "LOGOUT") return {"* BYE berth logging out\r\n" + tag + " OK LOGOUT completed\r\n", Reply::Then::close};
        if (verb == "NOOP") return {tag + " OK NOOP completed\r\n"};
        return {tag + " BAD Command not implemented\r\n"};
    }

    Reply pop3(std::string_view line) {
        std::size_t rest = 0;
        const std::string verb = upper_word(line, rest);
        if (verb == "CAPA")
            return {std::string("+OK Capability list follows\r\n") + (offers_starttls() ? "STLS\r\n" : "") +
                    "IMPLEMENTATION berth\r\n.\r\n"};
        if (verb == "STLS") {
            if (!offers_starttls()) return {"-ERR STLS not available\r\n"};
            return {"+OK Begin TLS negotiation\r\n", Reply::Then::start_tls};
        }
        if (verb == "QUIT") return {"+OK Bye\r\n", Reply::Then::close};
        if (verb == "NOOP") return {"+OK\r\n"};
        return {"-ERR Command not implemented\r\n"};
    }

    [[nodiscard]] std::string sieve_capabilities() const {
        return std::string("\"IMPLEMENTATION\" \"berth\"\r\n\"SIEVE\" \"fileinto\"\r\n") +
               (offers_starttls() ? "\"STARTTLS\"\r\n" : "") + "\"VERSION\" \"1.0\"\r\n";
    }

    Reply sieve(std::string_view line) {
        std::size_t rest = 0;
        const std::string verb = upper_word(line, rest);
        if (verb == "CAPABILITY") return {sieve_capabilities() + "OK \"Capability completed\"\r\n"};
        if (verb == "STARTTLS") {
            if (!offers_starttls()) return {"NO \"STARTTLS not available\"\r\n"};
            return {"OK \"Begin TLS negotiation now\"\r\n", Reply::Then::start_tls};
        }
        if (verb == "LOGOUT") return {"OK \"Logout complete\"\r\n", Reply::Then::close};
        if (verb == "NOOP") return {"OK \"NOOP completed\"\r\n"};
        return {"NO \"Command not implemented\"\r\n"};
    }

    Reply http(std::string_view line) {
        if (!http_request_seen_) {
            http_request_seen_ = true;
            if (line.find(" HTTP/1.") == std::string_view::npos) return {"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", Reply::Then::close};
            return {};
        }
        if (!line.empty()) return {};  // a header line
        return {"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(status_page_.size()) + "\r\n\r\n" + std::string(status_page_),
                Reply::Then::close};
    }
};

/// Every greeting a Greeter makes for one host, made once: a connection's greeting is a lookup into
/// it, not a string built anew for each connection.
class GreetingTable {
public:
    explicit GreetingTable(std::string_view host) {
        for (std::size_t p = 0; p < protocol_count; ++p)
            for (int starttls_allowed = 0; starttls_allowed < 2; ++starttls_allowed)
                for (int tls_active = 0; tls_active < 2; ++tls_active)
                    table_[index(static_cast<Protocol>(p), starttls_allowed != 0, tls_active != 0)] =
                        Greeter(static_cast<Protocol>(p), starttls_allowed != 0, tls_active != 0, host).greeting();
    }

    /// What Greeter(protocol, starttls_allowed, tls_active, host).greeting() returns.
    [[nodiscard]] std::string_view operator()(Protocol protocol, bool starttls_allowed, bool tls_active) const {
        return table_[index(protocol, starttls_allowed, tls_active)];
    }

private:
    static constexpr std::size_t protocol_count = static_cast<std::size_t>(Protocol::http) + 1;
    static std::size_t index(Protocol protocol, bool starttls_allowed, bool tls_active) noexcept {
        return static_cast<std::size_t>(protocol) * 4 + (starttls_allowed ? 2 : 0) + (tls_active ? 1 : 0);
    }
    std::array<std::string, protocol_count * 4> table_;
};

}  // namespace berth::serve
