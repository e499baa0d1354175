// Opening probe connections the way a listener expects them: source address, PROXY header, implicit
// TLS or STARTTLS, greeting.
#include "probe_client.hpp"

#if BERTH_CLI_SERVE

#include <vector>

#include "berth/model/ip_mask.hpp"
#include "probe_protocol.hpp"

namespace berth::probe {

namespace {

bool trusted_by(const ResolvedListener& listener, const IpAddress& peer) {
    for (const auto& mask : listener.proxy_trusted_networks)
        if (mask.matches(peer)) return true;
    return false;
}

IpAddress loopback_v4(std::uint8_t last) { return IpAddress::v4({127, 0, 0, last}); }

}  // namespace

LoopbackSources loopback_sources(const ResolvedListener& listener, const IpAddress& target) {
    LoopbackSources sources;
    if (target.is_v6()) {
        const IpAddress local = IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        (trusted_by(listener, local) ? sources.trusted : sources.untrusted) = local;
        return sources;
    }
    // Trusted: prefer 127.0.0.2 and up (127.0.0.1 is every tool's default source), then a host inside
    // each trusted 127.x network; untrusted: 127.0.0.1 first.
    std::vector<IpAddress> candidates;
    for (unsigned last = 2; last <= 254; ++last) candidates.push_back(loopback_v4(static_cast<std::uint8_t>(last)));
    candidates.push_back(loopback_v4(1));
    for (const auto& mask : listener.proxy_trusted_networks) {
        if (!mask.address().is_v4() || mask.address().v4_bytes()[0] != 127) continue;
        auto bytes = mask.address().v4_bytes();
        if (bytes[3] == 0) bytes[3] = 1;
        candidates.push_back(IpAddress::v4(bytes));
    }
    for (const auto& c : candidates)
        if (!sources.trusted && trusted_by(listener, c)) sources.trusted = c;
    if (!trusted_by(listener, loopback_v4(1))) sources.untrusted = loopback_v4(1);
    for (const auto& c : candidates)
        if (!sources.untrusted && !trusted_by(listener, c)) sources.untrusted = c;
    return sources;
}

ClientPlan ordinary_plan(const ResolvedListener& listener, const IpAddress& target) {
    if (!listener.uses_proxy_protocol()) return {};
    const LoopbackSources sources = loopback_sources(listener, target);
    if (sources.untrusted) return {sources.untrusted, ProxyHeaderToSend::none};
    return {sources.trusted, ProxyHeaderToSend::v1};
}

std::string describe(const ClientPlan& plan) {
    std::string text;
    if (plan.source) text = "from " + plan.source->to_string();
    if (plan.header != ProxyHeaderToSend::none)
        text += std::string(text.empty() ? "" : " ") + "with a PROXY " +
                (plan.header == ProxyHeaderToSend::v1 ? "v1" : "v2") + " header";
    return text;
}

Opened open_client(const Target& target, const ClientPlan& plan, Until until) {
    Opened o;
    o.connection = Connection::open(target.address, plan.source, target.step_deadline());
    if (!o.connection.is_open()) {
        o.failure = "connect " + target.address.to_string() +
                    (plan.source ? " from " + plan.source->to_string() : std::string{}) + ": " + o.connection.error();
        return o;
    }
    if (plan.header != ProxyHeaderToSend::none &&
        !o.connection.send(proxy_header(plan.header, target.address), target.step_deadline())) {
        o.failure = "sending the PROXY header: " + o.connection.error();
        return o;
    }
    if (until == Until::connected) return o;
    if (target.implicit_tls()) {
        o.tls = o.connection.start_tls(TlsOffer{}, target.step_deadline());
        if (!o.tls.established) {
            o.failure = "TLS handshake: " + o.tls.error;
            return o;
        }
    }
    if (until == Until::secured) return o;
    if (const auto request = opening_request(target.protocol());
        !request.empty() && !o.connection.send(request, target.step_deadline())) {
        o.failure = "sending the request: " + o.connection.error();
        return o;
    }
    const Protocol protocol = target.protocol();
    o.greeting_status = o.connection.read_until(
        [protocol](std::string_view b) { return greeting_complete(protocol, b); }, target.step_deadline());
    o.greeting = std::move(o.connection.buffer());
    o.connection.buffer().clear();
    return o;
}

Secured establish_tls(const Target& target, const TlsOffer& offer) {
    Secured s;
    const ClientPlan plan = ordinary_plan(target.listener, target.address.address());
    const Protocol protocol = target.protocol();
    if (target.implicit_tls()) {
        Opened o = open_client(target, plan, Until::connected);
        s.connection = std::move(o.connection);
        if (!o.failure.empty()) {
            s.failure = o.failure;
            return s;
        }
        s.tls = s.connection.start_tls(offer, target.step_deadline());
        return s;
    }
    Opened o = open_client(target, plan, Until::greeted);
    s.connection = std::move(o.connection);
    if (!o.failure.empty() || o.greeting_status != ReadStatus::complete ||
        classify_first_bytes(protocol, o.greeting) != FirstBytes::greeting) {
        s.failure = !o.failure.empty() ? o.failure : "no greeting before STARTTLS: '" + first_line(o.greeting) + "'";
        return s;
    }
    // Ask for the capabilities first, as a client must before STARTTLS (SMTP: EHLO).
    if (const auto command = capability_command(protocol); !command.empty()) {
        if (!s.connection.send(command, target.step_deadline()) ||
            s.connection.read_until([protocol](std::string_view b) { return capability_reply_complete(protocol, b); },
                                    target.step_deadline()) != ReadStatus::complete) {
            s.failure = std::string(capability_source(protocol)) + " before STARTTLS: " +
                        (s.connection.error().empty() ? "no complete reply" : s.connection.error());
            return s;
        }
        s.connection.buffer().clear();
    }
    if (!s.connection.send(starttls_command(protocol), target.step_deadline()) ||
        s.connection.read_until([protocol](std::string_view b) { return starttls_reply_complete(protocol, b); },
                                target.step_deadline()) != ReadStatus::complete) {
        s.failure = "STARTTLS: " + (s.connection.error().empty() ? "no complete reply" : s.connection.error());
        return s;
    }
    if (!starttls_accepted(protocol, s.connection.buffer())) {
        s.failure = "STARTTLS refused: '" + first_line(s.connection.buffer()) + "'";
        return s;
    }
    s.tls = s.connection.start_tls(offer, target.step_deadline());
    return s;
}

std::string describe(const TlsOutcome& tls) {
    return tls.version + ", " + tls.cipher + ", certificate subject " + tls.subject + ", not verified";
}

std::string first_line(std::string_view bytes) {
    const auto lines = complete_lines(bytes);
    return printable(lines.empty() ? bytes : lines.front());
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
