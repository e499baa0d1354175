// `berth probe --config FILE --host ADDR ...`: live conformance of a running server, checked as a client
// sees it against the configuration it claims to run (SPEC §5).
#include "cli.hpp"

#if BERTH_CLI_SERVE

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "berth/model.hpp"
#include "probe_checks.hpp"

namespace berth::cli {

namespace {

constexpr std::string_view usage_line =
    "berth probe --config FILE --host ADDR [--port-map FROM=TO ...] [--limits] [--proxy] [--deadlines]\n"
    "                   [--overload close|busy|backpressure] [--timeout SECONDS]";
constexpr std::string_view help_text = R"(berth probe: check a running server against the configuration it claims to run

usage: berth probe --config FILE --host ADDR [--port-map FROM=TO ...] [--limits] [--proxy] [--deadlines]
                   [--overload close|busy|backpressure] [--timeout SECONDS]

Resolves FILE (Stalwart TOML or NetworkListener JSON) as berth does, then for every bind address of
every listener connects to ADDR (a loopback address: 127.x.x.x or ::1) on the bind's port and checks,
as a client sees it:
  - the address accepts a TCP connection;
  - implicit TLS (tls.enable and tls.implicit): the handshake completes (the certificate subject is
    shown, never verified; SNI is "localhost"), the greeting comes inside TLS, STARTTLS is not offered
    there; a client limited to each enabled TLS version connects, one limited to a disabled version,
    or to TLS 1.0/1.1, is refused;
  - otherwise plaintext first: the protocol's greeting (SMTP/LMTP 220, IMAP * OK, POP3 +OK,
    ManageSieve capabilities or OK; HTTP answers GET / HTTP/1.0), never a TLS record;
  - STARTTLS advertised exactly when tls.enable and not tls.implicit (EHLO, LHLO, CAPABILITY, CAPA,
    the ManageSieve greeting); where advertised, the upgrade and each TLS version through it.
--limits    for listeners with maxConnections up to 256: hold that many served connections, open one
            more and see the overload policy; release them and see a new connection served; then
            open twice the limit at once and see at most the limit served
--overload  what the connection over the limit must see: close (default: closed without a greeting),
            busy (the protocol's busy line, e.g. 421 4.3.2, then closed), backpressure (no greeting
            until a held connection closes, then the greeting)
--proxy     for listeners with trusted networks: from a loopback source inside them (e.g. 127.0.0.2),
            PROXY v1 and v2 headers are read and no header closes the connection; from a loopback
            source outside them, the server greets without a header
--deadlines for listeners with tls.timeout up to 30s: a client that never sends its TLS ClientHello
            (implicit TLS, or after STARTTLS) or, from a trusted source, its PROXY header, is closed
            once tls.timeout has passed (not much before, and not never)
--port-map  probe a bind's port FROM on port TO (a configuration on 25 probed on 2525); repeatable
--timeout   the deadline of every network wait, in seconds (default 5)

Prints one line per check, "PASS <listener> <address>: <check>" or "FAIL <listener> <address>: <check>:
<why>" (SKIP and NOTE lines are not counted); the last line is "N passed, N failed".
Exit status: 0 when no check failed, 1 otherwise, 2 on a usage error or an invalid configuration.
)";

std::optional<IpAddress> parse_loopback(std::string_view text) {
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    const auto parsed = IpAddress::parse(text);
    if (!parsed) return std::nullopt;
    IpAddress address = *parsed;
    if (auto v4 = address.mapped_v4()) address = *v4;
    if (address.is_v4()) return address.v4_bytes()[0] == 127 ? std::optional(address) : std::nullopt;
    const auto bytes = address.v6_bytes();
    for (std::size_t i = 0; i < 15; ++i)
        if (bytes[i] != 0) return std::nullopt;
    return bytes[15] == 1 && address.scope_id() == 0 ? std::optional(address) : std::nullopt;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    const long n = std::strtol(std::string(text).c_str(), nullptr, 10);
    if (n > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(n);
}

/// Seconds with up to three decimals, from 0.001 to 3600.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 4 || whole.find_first_not_of("0123456789") != std::string_view::npos ||
        fraction.size() > 3 || fraction.find_first_not_of("0123456789") != std::string_view::npos ||
        (dot != std::string_view::npos && fraction.empty()))
        return std::nullopt;
    long ms = std::strtol(std::string(whole).c_str(), nullptr, 10) * 1000;
    long scale = 100;
    for (const char c : fraction) {
        ms += (c - '0') * scale;
        scale /= 10;
    }
    if (ms <= 0 || ms > 3'600'000) return std::nullopt;
    return std::chrono::milliseconds(ms);
}

std::string describe(const ResolvedListener& l) {
    std::string text = std::string(json_name(l.protocol));
    if (l.use_tls && l.tls_implicit)
        text += ", implicit TLS";
    else if (l.use_tls && l.protocol != Protocol::http)
        text += ", STARTTLS";
    else
        text += ", plain";
    if (l.use_tls && !l.tls_disable_protocols.empty()) {
        text += " (disabled:";
        for (const auto v : l.tls_disable_protocols) text += " " + std::string(toml_name(v));
        text += ")";
    }
    if (l.uses_proxy_protocol()) text += ", PROXY from trusted networks";
    return text + ", at most " + std::to_string(l.max_connections) + " connections";
}

}  // namespace

int probe_main(const std::vector<std::string_view>& args) {
    std::optional<std::string_view> config_name;
    std::optional<IpAddress> host;
    probe::ProbeOptions options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= args.size()) return std::nullopt;
            return args[++i];
        };
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        } else if (arg == "--config") {
            config_name = value();
            if (!config_name) return usage_error("probe", "--config needs a FILE", usage_line);
        } else if (arg == "--host") {
            const auto text = value();
            if (!text) return usage_error("probe", "--host needs an address", usage_line);
            host = parse_loopback(*text);
            if (!host)
                return usage_error("probe",
                                   "--host must be a loopback address (127.x.x.x or ::1), not '" + std::string(*text) +
                                       "': the probe opens and holds many connections, and only on this machine",
                                   usage_line);
        } else if (arg == "--port-map") {
            const auto text = value();
            const std::size_t eq = text ? text->find('=') : std::string_view::npos;
            const auto from = eq == std::string_view::npos ? std::nullopt : parse_port(text->substr(0, eq));
            const auto to = eq == std::string_view::npos ? std::nullopt : parse_port(text->substr(eq + 1));
            if (!from || !to || *to == 0)
                return usage_error("probe", "--port-map needs FROM=TO, two ports (TO not 0)", usage_line);
            options.port_map[*from] = *to;
        } else if (arg == "--limits") {
            options.limits = true;
        } else if (arg == "--proxy") {
            options.proxy = true;
        } else if (arg == "--deadlines") {
            options.deadlines = true;
        } else if (arg == "--overload") {
            const auto text = value();
            if (text == "close")
                options.overload = probe::OverloadExpectation::close;
            else if (text == "busy")
                options.overload = probe::OverloadExpectation::busy;
            else if (text == "backpressure")
                options.overload = probe::OverloadExpectation::backpressure;
            else
                return usage_error("probe", "--overload needs close, busy or backpressure", usage_line);
        } else if (arg == "--timeout") {
            const auto text = value();
            const auto step = text ? parse_seconds(*text) : std::nullopt;
            if (!step) return usage_error("probe", "--timeout needs seconds, more than 0 and at most 3600", usage_line);
            options.step = *step;
        } else {
            return usage_error("probe", "unknown argument " + std::string(arg), usage_line);
        }
    }
    if (!config_name) return usage_error("probe", "no --config FILE given", usage_line);
    if (!host) return usage_error("probe", "no --host ADDR given", usage_line);
    options.host = *host;

    const auto input = read_input(*config_name);
    if (!input) return Exit::usage;
    const Resolution config = load(input->text, input->format);
    print_diagnostics(stderr, input->name, config.diagnostics, false);
    if (!config.valid()) {
        print_summary(stderr, input->name, config.diagnostics);
        std::fputs("berth probe: the configuration is invalid: there is nothing to check against\n", stderr);
        return Exit::usage;
    }

    // A server that closes while the probe writes must not kill it: a write then fails with EPIPE.
    std::signal(SIGPIPE, SIG_IGN);

    std::size_t addresses = 0;
    for (const auto& l : config.listeners) addresses += l.bind.size();
    std::printf("berth probe: %s: %zu listener%s, %zu address%s, probed at %s (each wait at most %lldms)\n",
                input->name.c_str(), config.listeners.size(), config.listeners.size() == 1 ? "" : "s", addresses,
                addresses == 1 ? "" : "es", options.host.to_string().c_str(),
                static_cast<long long>(options.step.count()));
    probe::Report report(stdout);
    for (const auto& listener : config.listeners) {
        for (const auto& bind : listener.bind) {
            const probe::Subject subject{listener.name, bind.to_string()};
            const auto mapped = options.port_map.find(bind.port());
            const std::uint16_t port = mapped == options.port_map.end() ? bind.port() : mapped->second;
            if (port == 0) {
                report.fail(
                    subject, "accepts a TCP connection",
                    "the configuration binds port 0 (the server picks a port at start): give --port-map 0=PORT");
                continue;
            }
            const probe::Target target{listener, SocketAddr(options.host, port), subject, options};
            report.note(subject, "probing " + target.address.to_string() + ": " + describe(listener));
            probe::probe_target(target, report);
        }
    }
    report.summary();
    return report.failed() == 0 ? Exit::ok : Exit::invalid;
}

}  // namespace berth::cli

#else  // without berth::net there is no TLS library to probe with

#include <cstdio>

namespace berth::cli {
int probe_main(const std::vector<std::string_view>&) {
    std::fputs("berth probe: this berth was built without berth::net (Asio and a TLS library)\n", stderr);
    return Exit::usage;
}
}  // namespace berth::cli

#endif
