// `berth probe --deadlines`: tlsTimeout is enforced (SPEC §5): a client that never starts the implicit
// TLS handshake, never starts the handshake after STARTTLS, or (from a trusted source) never sends its
// PROXY header, is closed once tlsTimeout has passed, not before and not never (Stalwart never uses it).
#include "probe_checks.hpp"

#if BERTH_CLI_SERVE

#include <cstdio>

#include "probe_protocol.hpp"

namespace berth::probe {

namespace {

std::string seconds(Clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2fs", std::chrono::duration<double>(d).count());
    return text;
}

/// Waits on a connection that owes the server something (a ClientHello, a PROXY header) and says
/// nothing: it must be closed at tlsTimeout, give or take the probe's own step for slack.
void expect_closed_at_deadline(const Target& t, Report& r, Connection& c, const std::string& check) {
    const auto timeout = std::chrono::milliseconds(t.listener.tls_timeout.milliseconds());
    const auto start = Clock::now();
    const ReadStatus status = c.read_until([](std::string_view) { return false; }, start + timeout + t.options.step);
    const auto elapsed = Clock::now() - start;
    if (status == ReadStatus::timed_out)
        r.fail(t.subject, check, "still open after " + seconds(elapsed) + ": no deadline");
    else if (status == ReadStatus::failed)
        r.fail(t.subject, check, c.error());
    else if (elapsed < timeout * 9 / 10)
        r.fail(t.subject, check, "closed after " + seconds(elapsed) + ", before tlsTimeout");
    else
        r.pass(t.subject, check + " (closed after " + seconds(elapsed) + ")");
    c.close();
}

}  // namespace

void check_deadlines(const Target& t, Report& r) {
    const auto timeout = std::chrono::milliseconds(t.listener.tls_timeout.milliseconds());
    const std::string at = "tlsTimeout " + t.listener.tls_timeout.to_string();
    const bool has_deadline = t.implicit_tls() || (t.listener.offers_starttls() && greets_first(t.protocol())) ||
                              t.listener.uses_proxy_protocol();
    if (!has_deadline) return;
    if (timeout > t.options.deadline_bound) {
        r.skip(t.subject, "deadlines",
               at + " is longer than " + std::to_string(t.options.deadline_bound.count() / 1000) + "s; not waited for");
        return;
    }
    const ClientPlan plan = ordinary_plan(t.listener, t.address.address());

    if (t.implicit_tls()) {
        Opened o = open_client(t, plan, Until::connected);
        if (!o.failure.empty())
            r.fail(t.subject, "implicit TLS deadline", o.failure);
        else
            expect_closed_at_deadline(t, r, o.connection,
                                      "implicit TLS: a client that never sends its ClientHello is closed at " + at);
    } else if (t.listener.offers_starttls() && greets_first(t.protocol())) {
        const Protocol p = t.protocol();
        const std::string check = "STARTTLS: a client that never starts the handshake is closed at " + at;
        Opened o = open_client(t, plan, Until::greeted);
        Connection& c = o.connection;
        bool accepted = o.failure.empty() && o.greeting_status == ReadStatus::complete;
        if (accepted && !capability_command(p).empty())
            accepted = c.send(capability_command(p), t.step_deadline()) &&
                       c.read_until([p](std::string_view b) { return capability_reply_complete(p, b); },
                                    t.step_deadline()) == ReadStatus::complete;
        c.buffer().clear();
        accepted = accepted && c.send(starttls_command(p), t.step_deadline()) &&
                   c.read_until([p](std::string_view b) { return starttls_reply_complete(p, b); }, t.step_deadline()) ==
                       ReadStatus::complete &&
                   starttls_accepted(p, c.buffer());
        if (!o.failure.empty())
            r.fail(t.subject, check, o.failure);
        else if (o.greeting_status != ReadStatus::complete)
            r.fail(t.subject, check, "no greeting: " + c.error());
        else if (!accepted)
            r.fail(t.subject, check, "STARTTLS was not accepted: '" + first_line(c.buffer()) + "'");
        else
            expect_closed_at_deadline(t, r, c, check);
    }

    if (t.listener.uses_proxy_protocol()) {
        const LoopbackSources sources = loopback_sources(t.listener, t.address.address());
        if (!sources.trusted) return;  // check_proxy_protocol says why, with --proxy
        const std::string check = "PROXY: a trusted client (" + sources.trusted->to_string() +
                                  ") that never sends its header is closed at " + at;
        Opened o = open_client(t, {sources.trusted, ProxyHeaderToSend::none}, Until::connected);
        if (!o.failure.empty())
            r.fail(t.subject, check, o.failure);
        else
            expect_closed_at_deadline(t, r, o.connection, check);
    }
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
