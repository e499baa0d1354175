#pragma once
// SocketAddr: a bind address (IP address and port) with Rust's SocketAddr grammar and diagnostics.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "berth/model/ip_address.hpp"
#include "berth/model/parsed.hpp"

namespace berth {

class SocketAddr {
public:
    /// Exactly Rust's `SocketAddr::from_str` (SPEC §2.1): `a.b.c.d:port` or `[ipv6]:port` or
    /// `[ipv6%scope]:port`, the port decimal 0..65535 (leading zeros allowed), the scope id decimal
    /// 0..4294967295. Error codes `bind.*`, each with a hint showing the fix where there is one.
    static Parsed<SocketAddr> parse(std::string_view text);

    SocketAddr(IpAddress address, std::uint16_t port) noexcept : address_(std::move(address)), port_(port) {}

    [[nodiscard]] const IpAddress& address() const noexcept { return address_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

    /// `0.0.0.0:25`, `[::]:25`, `[fe80::1%2]:25` (no `%0`: scope id 0 means none).
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const SocketAddr&) const = default;

private:
    IpAddress address_;
    std::uint16_t port_;
};

namespace detail {

/// Rust's `read_socket_addr`: the whole text, or nothing.
inline std::optional<SocketAddr> read_whole_socket_addr(std::string_view text) noexcept {
    {
        AddressReader reader(text);
        const auto octets = reader.read_ipv4();
        if (octets && reader.read_given_char(':')) {
            const auto port = reader.read_number<std::uint16_t>(10, 0, true);
            if (port && reader.at_end()) return SocketAddr(IpAddress::v4(*octets), *port);
        }
    }
    AddressReader reader(text);
    if (!reader.read_given_char('[')) return std::nullopt;
    const auto bytes = reader.read_ipv6();
    if (!bytes) return std::nullopt;
    std::uint32_t scope_id = 0;
    if (reader.read_given_char('%')) {
        const auto scope = reader.read_number<std::uint32_t>(10, 0, true);
        if (!scope) return std::nullopt;  // Rust: `%` is only consumed with a number after it
        scope_id = *scope;
    }
    if (!reader.read_given_char(']') || !reader.read_given_char(':')) return std::nullopt;
    const auto port = reader.read_number<std::uint16_t>(10, 0, true);
    if (!port || !reader.at_end()) return std::nullopt;
    return SocketAddr(IpAddress::v6(*bytes, scope_id), *port);
}

/// `digits` (known to be all digits) as a number, or nothing above `max`.
constexpr std::optional<std::uint64_t> decimal_at_most(std::string_view digits, std::uint64_t max) noexcept {
    std::uint64_t value = 0;
    for (char c : digits) {
        value = value * 10 + static_cast<unsigned>(c - '0');
        if (value > max) return std::nullopt;
    }
    return value;
}

/// The port text as a valid port (for hints), or nothing.
constexpr std::optional<std::uint16_t> valid_port(std::string_view text) noexcept {
    if (!all_ascii_digits(text)) return std::nullopt;
    const auto value = decimal_at_most(text, 65535);
    if (!value) return std::nullopt;
    return static_cast<std::uint16_t>(*value);
}

inline std::string port_or_placeholder(std::string_view port_text) {
    const auto port = valid_port(port_text);
    return port ? std::to_string(*port) : std::string("PORT");
}

/// `host` already bracketed for IPv6 (`[::1]`) or bare for IPv4, joined with the port.
inline std::string socket_text(std::string_view host, std::string_view port) {
    return std::string(host) + ":" + std::string(port);
}

inline std::string bracketed(const std::string& ipv6) { return "[" + ipv6 + "]"; }

inline ValueError bind_error(std::string code, std::string message, std::string hint) {
    return ValueError{std::move(code), std::move(message), std::move(hint)};
}

/// The port after `host:` is not a number in 0..65535.
inline ValueError diagnose_port(std::string_view text, const std::string& host_for_hint, std::string_view port_text) {
    const std::string shown = quote_text(text);
    if (port_text.empty())
        return bind_error("bind.bad-port", shown + " has no port after the `:`",
                          "write a port number 0..65535: `" + socket_text(host_for_hint, "PORT") + "`");
    if (port_text.front() == '+' || port_text.front() == '-') {
        const auto unsigned_port = valid_port(port_text.substr(1));
        std::string hint = "a port is written without a sign";
        if (port_text.front() == '+' && unsigned_port)
            hint = "write `" + socket_text(host_for_hint, std::to_string(*unsigned_port)) + "`";
        return bind_error("bind.bad-port", "port " + quote_text(port_text) + " of " + shown + " has a sign", hint);
    }
    if (!all_ascii_digits(port_text))
        return bind_error("bind.bad-port", "port " + quote_text(port_text) + " of " + shown + " is not a decimal number",
                          "a port is a number 0..65535 (service names are not looked up), e.g. `" +
                              socket_text(host_for_hint, "25") + "`");
    if (valid_port(port_text))  // the port is fine, so something before it is not
        return bind_error("bind.invalid", shown + " is not a valid bind address",
                          "write `IPv4:PORT` or `[IPv6]:PORT`, e.g. `0.0.0.0:25` or `[::]:25`");
    return bind_error("bind.bad-port", "port " + quote_text(port_text) + " of " + shown + " is out of range 0..65535",
                      "use a port number 0..65535");
}

/// Error for an address part that is not an IP address, mapped to the bind.* codes.
inline ValueError diagnose_bind_host(std::string_view text, std::string_view host, std::string_view port_text) {
    const std::string port = port_or_placeholder(port_text);
    auto diagnosis = diagnose_address(host);
    switch (diagnosis.problem) {
    case AddressProblem::host_name: {
        std::string hint = host == "localhost" ? "use an IP address: `127.0.0.1:" + port + "` or `[::1]:" + port +
                                                     "` for this host only"
                                               : "use the IP address " + quote_text(host) + " stands for";
        hint += ", or `[::]:" + port + "` for every interface";
        return bind_error("bind.host-name", quote_text(text) + ": " + diagnosis.message, std::move(hint));
    }
    case AddressProblem::leading_zero:
        return bind_error("bind.leading-zero", quote_text(text) + ": " + diagnosis.message,
                          "write `" + socket_text(diagnosis.fixed, port) + "` if the numbers are decimal");
    default: {
        std::string hint;
        if (!diagnosis.fixed.empty()) {
            const auto fixed = IpAddress::parse(diagnosis.fixed);
            const std::string host_text =
                fixed && fixed->is_v6() ? bracketed(diagnosis.fixed) : diagnosis.fixed;
            hint = "write `" + socket_text(host_text, port) + "`";
        }
        return bind_error("bind.invalid", quote_text(text) + ": " + diagnosis.message, std::move(hint));
    }
    }
}

inline ValueError diagnose_bracketed(std::string_view text) {
    const std::string shown = quote_text(text);
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos)
        return bind_error("bind.invalid", shown + " has no `]` closing the `[`", "write `[IPv6]:PORT`, e.g. `[::]:25`");
    const std::string_view inside = text.substr(1, close - 1);
    const std::string_view after = text.substr(close + 1);
    const std::string_view port_text = after.size() > 1 && after.front() == ':' ? after.substr(1) : std::string_view();
    const std::string port = port_or_placeholder(port_text);

    const std::size_t percent = inside.find('%');
    const std::string_view address_text = inside.substr(0, percent);
    const auto bytes = read_whole_ipv6(address_text);
    if (!bytes) {
        if (const auto v4 = read_whole_ipv4(address_text))
            return bind_error("bind.invalid", shown + ": an IPv4 address is written without brackets or scope id",
                              "write `" + socket_text(format_ipv4(*v4), port) + "`");
        return diagnose_bind_host(text, address_text, port_text);
    }
    const std::string address = format_ipv6(*bytes);

    std::string scope_suffix;
    if (percent != std::string_view::npos) {
        const std::string_view scope = inside.substr(percent + 1);
        if (scope.empty())
            return bind_error("bind.invalid", shown + " has an empty scope id after `%`",
                              "write `" + socket_text(bracketed(address), port) + "` or give the interface number: `" +
                                  socket_text(bracketed(address + "%2"), port) + "`");
        if (!all_ascii_digits(scope))
            return bind_error("bind.named-scope",
                              shown + " names its scope " + quote_text(scope) +
                                  "; only a numeric scope id (the interface index) is accepted",
                              "write the interface's index instead of its name (`ip link` lists it): `" +
                                  socket_text(bracketed(address + "%INDEX"), port) + "`");
        const auto scope_id = decimal_at_most(scope, 4294967295u);
        if (!scope_id)
            return bind_error("bind.invalid", shown + ": scope id " + quote_text(scope) + " is above 4294967295",
                              "use the interface's index (`ip link` lists it)");
        if (*scope_id != 0) scope_suffix = "%" + std::to_string(*scope_id);
    }
    const std::string host = bracketed(address + scope_suffix);
    if (after.empty())
        return bind_error("bind.missing-port", shown + " has no port, e.g. `" + socket_text(host, "25") + "`",
                          "write `" + socket_text(host, "PORT") + "`");
    if (after.front() != ':')
        return bind_error("bind.invalid", shown + ": expected `:` and a port after `]`",
                          "write `" + socket_text(host, "PORT") + "`");
    return diagnose_port(text, host, after.substr(1));
}

/// Two or more colons and no brackets: an IPv6 address that was not bracketed.
inline ValueError diagnose_unbracketed_ipv6(std::string_view text) {
    const std::string shown = quote_text(text);
    const std::size_t percent = text.find('%');
    if (percent != std::string_view::npos) {
        const auto bytes = read_whole_ipv6(text.substr(0, percent));
        if (bytes) {
            const std::string address = format_ipv6(*bytes);
            const std::string_view rest = text.substr(percent + 1);
            const std::size_t colon = rest.find(':');
            const std::string_view scope = rest.substr(0, colon);
            const std::string port =
                port_or_placeholder(colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1));
            if (!scope.empty() && !all_ascii_digits(scope))
                return bind_error("bind.named-scope",
                                  shown + " names its scope " + quote_text(scope) +
                                      "; only a numeric scope id (the interface index) is accepted, inside brackets",
                                  "write `" + socket_text(bracketed(address + "%INDEX"), port) +
                                      "` with the interface's index (`ip link` lists it)");
            const std::string host = bracketed(address + (scope.empty() ? "" : "%" + std::string(scope)));
            return bind_error("bind.ipv6-needs-brackets",
                              shown + ": an IPv6 address must be in brackets, followed by `:` and the port",
                              "write `" + socket_text(host, port) + "`");
        }
        return diagnose_bind_host(text, text.substr(0, percent), {});
    }

    const std::size_t last_colon = text.rfind(':');
    const std::string_view before_last = text.substr(0, last_colon);
    const std::string_view after_last = text.substr(last_colon + 1);
    const auto head = read_whole_ipv6(before_last);
    const auto whole = read_whole_ipv6(text);

    // `2001:db8::2:25` is a valid IPv6 address and also reads as address `2001:db8::2` with port 25.
    if (head && all_ascii_digits(after_last)) {
        const std::string host = bracketed(format_ipv6(*head));
        std::string hint = "write `" + socket_text(host, port_or_placeholder(after_last)) + "`";
        if (whole) hint += ", or `" + socket_text(bracketed(format_ipv6(*whole)), "PORT") + "` if all of it is the address";
        return bind_error("bind.ipv6-needs-brackets",
                          shown + " is ambiguous: an IPv6 address must be in brackets before `:` and the port",
                          std::move(hint));
    }
    if (whole) {
        const std::string host = bracketed(format_ipv6(*whole));
        return bind_error("bind.missing-port",
                          shown + " has no port, and an IPv6 address needs brackets before it, e.g. `" +
                              socket_text(host, "25") + "`",
                          "write `" + socket_text(host, "PORT") + "`");
    }
    return diagnose_bind_host(text, text, {});
}

inline ValueError diagnose_socket_addr(std::string_view text) {
    const std::string shown = quote_text(text);
    if (text.empty())
        return bind_error("bind.invalid", "the bind address is empty",
                          "write `IP:PORT`, e.g. `0.0.0.0:25` or `[::]:25`");
    if (contains_ascii_space(text)) {
        const auto fixed = read_whole_socket_addr(without_ascii_space(text));
        return bind_error("bind.whitespace", shown + " contains whitespace",
                          fixed ? "write `" + fixed->to_string() + "`" : std::string("remove the whitespace"));
    }
    if (text.front() == '*') {
        const std::string_view port_text = text.size() > 1 && text[1] == ':' ? text.substr(2) : std::string_view();
        const std::string port = port_or_placeholder(port_text);
        return bind_error("bind.wildcard", shown + ": `*` is not an address",
                          "write `[::]:" + port + "` for every IPv6 and IPv4 address, or `0.0.0.0:" + port +
                              "` for every IPv4 address");
    }
    if (text.front() == '[') return diagnose_bracketed(text);
    if (text.find_first_of("[]") != std::string_view::npos)
        return bind_error("bind.invalid", shown + " has a misplaced bracket", "write `[IPv6]:PORT` or `IPv4:PORT`");

    const std::size_t first_colon = text.find(':');
    if (first_colon == std::string_view::npos) {
        if (const auto v4 = read_whole_ipv4(text)) {
            const std::string address = format_ipv4(*v4);
            return bind_error("bind.missing-port", shown + " has no port, e.g. `" + address + ":25`",
                              "write `" + address + ":PORT`");
        }
        if (all_ascii_digits(text))
            return bind_error("bind.invalid", shown + " is a port without an address",
                              "write `[::]:" + port_or_placeholder(text) + "` for every interface, or `0.0.0.0:" +
                                  port_or_placeholder(text) + "` for every IPv4 interface");
        return diagnose_bind_host(text, text, {});
    }
    if (text.find(':', first_colon + 1) != std::string_view::npos) return diagnose_unbracketed_ipv6(text);

    const std::string_view host = text.substr(0, first_colon);
    const std::string_view port_text = text.substr(first_colon + 1);
    if (host.empty())
        return bind_error("bind.invalid", shown + " has no address before the `:`",
                          "write `[::]:" + port_or_placeholder(port_text) + "` for every interface, or `0.0.0.0:" +
                              port_or_placeholder(port_text) + "` for every IPv4 interface");
    if (const auto v4 = read_whole_ipv4(host)) return diagnose_port(text, format_ipv4(*v4), port_text);
    return diagnose_bind_host(text, host, port_text);
}

/// SocketAddr::to_string() appended to `out`.
inline void write_socket_addr(AddressText& out, const SocketAddr& addr) noexcept {
    if (addr.address().is_v4()) {
        write_ip(out, addr.address());
    } else {
        out.push_back('[');
        write_ip(out, addr.address());
        out.push_back(']');
    }
    out.push_back(':');
    out.append_decimal(addr.port());
}

}  // namespace detail

inline std::string SocketAddr::to_string() const {
    detail::AddressText text;
    detail::write_socket_addr(text, *this);
    return text.str();
}

inline Parsed<SocketAddr> SocketAddr::parse(std::string_view text) {
    if (auto address = detail::read_whole_socket_addr(text)) return *address;
    return detail::diagnose_socket_addr(text);
}

}  // namespace berth
