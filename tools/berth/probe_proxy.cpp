// `berth probe --proxy`: from a loopback source inside the trusted networks, PROXY v1 and v2 headers
// are read and a connection without one is closed; from a source outside them, no header is expected
// (SPEC §5: an untrusted peer's bytes are never interpreted as a PROXY header).
#include "probe_checks.hpp"

#if BERTH_CLI_SERVE

#include <algorithm>

#include "probe_protocol.hpp"

namespace berth::probe {

namespace {

std::string trusted_list(const ResolvedListener& listener) {
    std::string text;
    for (const auto& mask : listener.proxy_trusted_networks) text += (text.empty() ? "" : ", ") + mask.to_string();
    return text;
}

/// Before a header from a trusted source, a server that reads one stays silent; one that greets at
/// once would take the header for a command, and its greeting proves nothing.
bool silent_before_header(const Target& t, Report& r, const ClientPlan& plan, const std::string& check) {
    Opened o = open_client(t, {plan.source, ProxyHeaderToSend::none}, Until::connected);
    if (!o.failure.empty()) {
        r.fail(t.subject, check, o.failure);
        return false;
    }
    const auto quiet = std::min(t.step_deadline(), Clock::now() + std::chrono::milliseconds(200));
    if (o.connection.read_any(quiet) == ReadStatus::complete) {
        r.fail(t.subject, check, "greeted before any header was sent: '" + first_line(o.connection.buffer()) + "'");
        return false;
    }
    o.connection.close_politely(t.step_deadline());
    return true;
}

/// Served as a client of this listener is: the greeting (HTTP: a response), after TLS when implicit.
void expect_served(const Target& t, Report& r, const ClientPlan& plan, const std::string& check) {
    if (plan.header != ProxyHeaderToSend::none && greets_first(t.protocol()) && !t.implicit_tls() &&
        !silent_before_header(t, r, plan, check))
        return;
    Opened o = open_client(t, plan, Until::greeted);
    const bool bad_request =
        t.protocol() == Protocol::http && first_line(o.greeting).find(" 400 ") != std::string::npos;
    if (!o.failure.empty())
        r.fail(t.subject, check, o.failure);
    else if (bad_request)
        r.fail(t.subject, check, "answered '" + first_line(o.greeting) + "': the header was read as the request");
    else if (o.greeting_status == ReadStatus::complete &&
             classify_first_bytes(t.protocol(), o.greeting) == FirstBytes::greeting)
        r.pass(t.subject, check + " (" + first_line(o.greeting) + ")");
    else if (o.greeting.empty())
        r.fail(t.subject, check, "no greeting: " + o.connection.error());
    else
        r.fail(t.subject, check, "got '" + first_line(o.greeting) + "'");
    o.connection.close_politely(t.step_deadline());
}

}  // namespace

void check_proxy_protocol(const Target& t, Report& r) {
    const LoopbackSources sources = loopback_sources(t.listener, t.address.address());
    const Protocol p = t.protocol();

    if (!sources.trusted) {
        r.skip(t.subject, "PROXY header from a trusted source",
               "no loopback address to connect from is in the trusted networks (" + trusted_list(t.listener) + ")");
    } else {
        const std::string from = sources.trusted->to_string();
        expect_served(t, r, {sources.trusted, ProxyHeaderToSend::v1},
                      "PROXY v1 header from trusted " + from + " is read");
        expect_served(t, r, {sources.trusted, ProxyHeaderToSend::v2},
                      "PROXY v2 header from trusted " + from + " is read");

        const std::string check = "no PROXY header from trusted " + from + ": closed";
        Opened o = open_client(t, {sources.trusted, ProxyHeaderToSend::none}, Until::connected);
        if (!o.failure.empty()) {
            r.fail(t.subject, check, o.failure);
        } else {
            Connection& c = o.connection;
            // The command a client would send first; the server may already have closed (a reset is fine).
            (void)c.send(first_command(p), t.step_deadline());
            const ReadStatus status = c.read_any(t.step_deadline());
            if (status == ReadStatus::closed && c.buffer().empty())
                r.pass(t.subject, check);
            else if (!c.buffer().empty())
                r.fail(t.subject, check, "answered without a PROXY header: '" + first_line(c.buffer()) + "'");
            else if (status == ReadStatus::timed_out)
                r.fail(t.subject, check, "still open at the deadline");
            else
                r.fail(t.subject, check, c.error());
        }
        o.connection.close_politely(t.step_deadline());
    }

    if (!sources.untrusted) {
        r.skip(t.subject, "no PROXY header from an untrusted source",
               "every loopback address to connect from is trusted (" + trusted_list(t.listener) + ")");
    } else {
        const std::string check =
            "from untrusted " + sources.untrusted->to_string() + ", no PROXY header is expected: " +
            (greets_first(p) && !t.implicit_tls() ? "greeted at once, before the client sends anything"
                                                  : "served without one");
        expect_served(t, r, {sources.untrusted, ProxyHeaderToSend::none}, check);
    }
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
