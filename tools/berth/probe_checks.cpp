// The connection and TLS checks of `berth probe`: TCP, implicit TLS and its versions, the plaintext
// greeting, STARTTLS advertised exactly when configured, the upgrade and its versions.
#include "probe_checks.hpp"

#if BERTH_CLI_SERVE

#include <algorithm>

#include "berth/model/tls.hpp"
#include "probe_protocol.hpp"

namespace berth::probe {

namespace {

std::uint16_t wire_version(TlsVersion v) { return v == TlsVersion::tls12 ? 0x0303 : 0x0304; }

std::string seconds_text(std::chrono::milliseconds step) {
    const auto ms = step.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

/// A reply, its lines joined with " | ", for a message.
std::string lines_text(std::string_view reply) {
    std::string text;
    for (const auto line : complete_lines(reply)) text += (text.empty() ? "" : " | ") + printable(line, 60);
    return text.size() > 240 ? text.substr(0, 240) + "..." : text;
}

/// Each TLS version alone (refused when disabled, negotiated when enabled), and TLS 1.0/1.1 refused.
void check_tls_versions(const Target& t, Report& r, std::string_view how) {
    struct Trial {
        std::string label;
        TlsOffer offer;
        bool should_connect;
        std::string expected_version;
    };
    std::vector<Trial> trials;
    for (const TlsVersion v : all_tls_versions())
        trials.push_back({std::string(toml_name(v)),
                          {wire_version(v), wire_version(v)},
                          t.listener.version_enabled(v),
                          std::string(toml_name(v))});
    trials.push_back({"TLS 1.0 and 1.1", {0x0301, 0x0302}, false, {}});
    for (const auto& trial : trials) {
        Secured s = establish_tls(t, trial.offer);
        const bool legacy = trial.expected_version.empty();
        const std::string check = trial.label +
                                  (trial.should_connect ? " (enabled)"
                                   : legacy             ? " (never offered)"
                                                        : " (disabled)") +
                                  std::string(how) + ": a client limited to " + (legacy ? "them" : "it") +
                                  (trial.should_connect ? " connects" : " is refused");
        if (!s.failure.empty()) {
            r.fail(t.subject, check, s.failure);
        } else if (trial.should_connect) {
            if (!s.tls.established)
                r.fail(t.subject, check, s.tls.error);
            else if (s.tls.version != trial.expected_version)
                r.fail(t.subject, check, "negotiated " + s.tls.version);
            else
                r.pass(t.subject, check + " (" + s.tls.cipher + ")");
        } else if (s.tls.established) {
            r.fail(t.subject, check, "the handshake completed (" + s.tls.version + ")");
        } else if (!s.tls.hello_sent) {
            r.skip(t.subject, check, "this TLS library cannot offer it: " + s.tls.error);
        } else {
            r.pass(t.subject, check + " (" + s.tls.error + ")");
        }
        s.connection.close_politely(t.step_deadline());
    }
}

/// STARTTLS in the capabilities of an open, greeted connection (the reply is the greeting itself for
/// ManageSieve); `expected` is whether the listener offers it. Returns whether it was advertised.
bool check_starttls_advertised(const Target& t, Report& r, Connection& c, const std::string& greeting, bool expected,
                               std::string_view where) {
    const Protocol p = t.protocol();
    const std::string check = std::string(expected ? "STARTTLS advertised" : "STARTTLS not advertised") +
                              std::string(where) + " (" + std::string(capability_source(p)) + ")";
    std::string reply = greeting;
    if (const auto command = capability_command(p); !command.empty()) {
        const bool sent = c.send(command, t.step_deadline());
        const ReadStatus status =
            sent ? c.read_until([p](std::string_view b) { return capability_reply_complete(p, b); }, t.step_deadline())
                 : ReadStatus::failed;
        if (status != ReadStatus::complete) {
            r.fail(t.subject, check, "no complete reply to " + std::string(capability_source(p)) + ": " + c.error());
            return false;
        }
        reply = std::move(c.buffer());
        c.buffer().clear();
    }
    const bool advertised = advertises_starttls(p, reply);
    if (advertised == expected) {
        r.pass(t.subject, check);
        return advertised;
    }
    if (expected) {
        r.fail(t.subject, check, "not in the reply: " + lines_text(reply));
    } else {
        r.fail(t.subject, check,
               std::string("listed, but the listener has ") +
                   (!t.listener.use_tls ? "TLS off (useTls false)" : "implicit TLS") + ": " + lines_text(reply));
    }
    return advertised;
}

/// Implicit TLS: the handshake with the default offer, the greeting inside TLS, no STARTTLS inside
/// TLS, then each version.
void check_implicit_tls(const Target& t, Report& r) {
    const ClientPlan plan = ordinary_plan(t.listener, t.address.address());
    Opened o = open_client(t, plan, Until::greeted);
    if (!o.tls.established) {
        std::string why = o.tls.error.empty() ? o.failure : o.tls.error;
        // Say what the server did instead, when it spoke plaintext first (a STARTTLS or plain listener).
        Opened sniff = open_client(t, plan, Until::connected);
        if (sniff.failure.empty() &&
            sniff.connection.read_any(std::min(t.step_deadline(), Clock::now() + std::chrono::seconds(1))) ==
                ReadStatus::complete)
            why += "; without a ClientHello the server sent plaintext first: '" +
                   first_line(sniff.connection.buffer()) + "'";
        sniff.connection.close_politely(t.step_deadline());
        r.fail(t.subject, "implicit TLS handshake", why);
        return;
    }
    r.pass(t.subject, "implicit TLS handshake (" + describe(o.tls) + ")");
    const Protocol p = t.protocol();
    const std::string greeting_check = greets_first(p) ? "greeting inside TLS" : "HTTP response inside TLS";
    const bool greeted =
        o.greeting_status == ReadStatus::complete && classify_first_bytes(p, o.greeting) == FirstBytes::greeting;
    if (greeted)
        r.pass(t.subject, greeting_check + " (" + first_line(o.greeting) + ")");
    else if (o.greeting.empty())
        r.fail(t.subject, greeting_check,
               "nothing within " + seconds_text(t.options.step) + ": " + o.connection.error());
    else
        r.fail(t.subject, greeting_check,
               "expected " + std::string(expected_greeting(p)) + ", got '" + first_line(o.greeting) + "'");
    if (greeted && p != Protocol::http)
        check_starttls_advertised(t, r, o.connection, o.greeting, false, " inside implicit TLS");
    o.connection.close_politely(t.step_deadline());
    check_tls_versions(t, r, "");
}

/// Plaintext first: the greeting (HTTP: the response to a request) and never a TLS record; then
/// STARTTLS advertised exactly when configured, the upgrade and each version through it.
void check_plaintext_first(const Target& t, Report& r) {
    const Protocol p = t.protocol();
    const ClientPlan plan = ordinary_plan(t.listener, t.address.address());
    const std::string check = greets_first(p) ? "plaintext greeting first" : "plaintext HTTP response";
    if (plan.header != ProxyHeaderToSend::none && greets_first(p)) {
        // Every loopback source is trusted, so the probe sends a PROXY header. A server that greets
        // before it would answer the header as a command and confuse every later check: stop here.
        Opened early = open_client(t, {plan.source, ProxyHeaderToSend::none}, Until::connected);
        if (early.failure.empty() &&
            early.connection.read_any(std::min(t.step_deadline(), Clock::now() + std::chrono::milliseconds(300))) ==
                ReadStatus::complete) {
            r.fail(t.subject, check,
                   "the server greeted " + plan.source->to_string() + " (trusted) before any PROXY header: '" +
                       first_line(early.connection.buffer()) + "'");
            return;
        }
        early.connection.close_politely(t.step_deadline());
    }
    Opened o = open_client(t, plan, Until::greeted);
    if (!o.failure.empty()) {
        r.fail(t.subject, check, o.failure);
        return;
    }
    if (o.greeting.empty()) {
        std::string why = o.greeting_status == ReadStatus::timed_out ? "nothing within " + seconds_text(t.options.step)
                          : o.greeting_status == ReadStatus::closed  ? "closed without a greeting"
                                                                     : "no greeting: " + o.connection.error();
        o.connection.close();
        // Silence: find out, on a new connection, whether the server waits for a TLS ClientHello.
        Opened retry = open_client(t, plan, Until::connected);
        const TlsOutcome tls =
            retry.failure.empty() ? retry.connection.start_tls(TlsOffer{}, t.step_deadline()) : TlsOutcome{};
        why += tls.established ? ", and a TLS handshake completed: the server speaks TLS first (implicit TLS)"
                               : " (a server that waits for a PROXY header or a TLS ClientHello is silent too)";
        retry.connection.close_politely(t.step_deadline());
        r.fail(t.subject, check, why);
        return;
    }
    switch (classify_first_bytes(p, o.greeting)) {
    case FirstBytes::greeting: r.pass(t.subject, check + " (" + first_line(o.greeting) + ")"); break;
    case FirstBytes::tls_record:
        r.fail(t.subject, check, "the server spoke TLS first: '" + printable(o.greeting, 16) + "'");
        return;
    case FirstBytes::busy: r.fail(t.subject, check, "refused with '" + first_line(o.greeting) + "'"); return;
    case FirstBytes::other:
        r.fail(t.subject, check,
               "expected " + std::string(expected_greeting(p)) + ", got '" + first_line(o.greeting) + "'");
        return;
    }
    if (p == Protocol::http) {
        if (t.listener.offers_starttls())
            r.skip(t.subject, "STARTTLS",
                   "HTTP has no STARTTLS: with tls.enable and not tls.implicit it is served plain");
        return;
    }
    const bool expected = t.listener.offers_starttls();
    const bool advertised = check_starttls_advertised(t, r, o.connection, o.greeting, expected, "");
    o.connection.close_politely(t.step_deadline());
    if (!expected || !advertised) return;  // an upgrade that is not offered, or not expected, is not tried
    Secured s = establish_tls(t, TlsOffer{});
    if (!s.failure.empty())
        r.fail(t.subject, "STARTTLS upgrade", s.failure);
    else if (!s.tls.established)
        r.fail(t.subject, "STARTTLS upgrade", "TLS handshake: " + s.tls.error);
    else
        r.pass(t.subject, "STARTTLS upgrade (" + describe(s.tls) + ")");
    s.connection.close_politely(t.step_deadline());
    if (s.tls.established) check_tls_versions(t, r, " through STARTTLS");
}

}  // namespace

void probe_target(const Target& t, Report& r) {
    const ClientPlan plan = ordinary_plan(t.listener, t.address.address());
    Opened o = open_client(t, plan, Until::connected);
    const std::string how = describe(plan);
    if (!o.failure.empty()) {
        r.fail(t.subject, "accepts a TCP connection", o.failure);
        return;  // nothing else can be seen
    }
    r.pass(t.subject, "accepts a TCP connection" + (how.empty() ? std::string{} : " (" + how + ")"));
    o.connection.close_politely(t.step_deadline());

    if (t.implicit_tls())
        check_implicit_tls(t, r);
    else
        check_plaintext_first(t, r);
    if (t.options.limits) check_connection_limit(t, r);
    if (t.options.proxy && t.listener.uses_proxy_protocol()) check_proxy_protocol(t, r);
    if (t.options.deadlines) check_deadlines(t, r);
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
