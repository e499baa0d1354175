// `berth probe --limits`: maxConnections held, one more opened, the overload policy seen (SPEC §5:
// close at once by default; a protocol busy line; or backpressure), then every connection released and
// a new one served (no permit leaked), then a burst of twice the limit (the counter never overshoots).
#include "probe_checks.hpp"

#if BERTH_CLI_SERVE

#include <optional>
#include <thread>
#include <vector>

#include "probe_protocol.hpp"

namespace berth::probe {

namespace {

using namespace std::chrono_literals;

std::string ordinal(std::size_t n) {
    const std::size_t tens = n % 100, ones = n % 10;
    const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                         : ones == 1                ? "st"
                         : ones == 2                ? "nd"
                         : ones == 3                ? "rd"
                                                    : "th";
    return std::to_string(n) + suffix;
}

/// A short wait in which a server that closes over-limit connections at once has done so.
Deadline quiet_deadline(const Target& t) {
    return Clock::now() + std::min<std::chrono::milliseconds>(t.options.step, 1s);
}

/// The request line alone: an HTTP connection the server has accepted and waits on.
constexpr std::string_view http_request_line = "GET / HTTP/1.0\r\n";

struct Hold {
    enum class Result : unsigned char { held, refused, failed } result = Result::failed;
    std::string why;
    Connection connection;
};

/// One connection the server serves and keeps: greeted (HTTP: the request line sent and the connection
/// still open a moment later; implicit TLS: after the handshake).
Hold hold_one(const Target& t, const ClientPlan& plan) {
    Hold h;
    Opened o = open_client(t, plan, Until::connected);
    h.connection = std::move(o.connection);
    if (!o.failure.empty()) {
        h.why = o.failure;
        return h;
    }
    Connection& c = h.connection;
    const Protocol p = t.protocol();
    if (t.implicit_tls()) {
        const TlsOutcome tls = c.start_tls(TlsOffer{}, t.step_deadline());
        if (!tls.established) {
            h.result = tls.status == ReadStatus::timed_out ? Hold::Result::failed : Hold::Result::refused;
            h.why = "TLS handshake: " + tls.error;
            return h;
        }
    }
    if (!greets_first(p)) {
        if (!c.send(http_request_line, t.step_deadline())) {
            h.result = Hold::Result::refused;
            h.why = c.error();
            return h;
        }
        const ReadStatus status = c.read_any(Clock::now() + std::min<std::chrono::milliseconds>(t.options.step, 150ms));
        if (status == ReadStatus::timed_out)
            h.result = Hold::Result::held;
        else if (status == ReadStatus::closed && c.buffer().empty())
            h.result = Hold::Result::refused;
        else if (classify_first_bytes(p, c.buffer()) == FirstBytes::busy)
            h.result = Hold::Result::refused;
        h.why = c.buffer().empty() ? c.error() : "'" + first_line(c.buffer()) + "'";
        return h;
    }
    const ReadStatus status =
        c.read_until([p](std::string_view b) { return greeting_complete(p, b); }, t.step_deadline());
    const FirstBytes kind = classify_first_bytes(p, c.buffer());
    if (status == ReadStatus::complete && kind == FirstBytes::greeting)
        h.result = Hold::Result::held;
    else if (kind == FirstBytes::busy || (status == ReadStatus::closed && c.buffer().empty()))
        h.result = Hold::Result::refused;
    h.why = c.buffer().empty() ? c.error() : "'" + first_line(c.buffer()) + "'";
    c.buffer().clear();
    return h;
}

/// A held connection, retried while the server is still releasing the permits of earlier checks
/// (a refusal then is the server catching up, not the limit), until the step's deadline.
Hold hold_with_retries(const Target& t, const ClientPlan& plan) {
    const Deadline deadline = t.step_deadline();
    for (;;) {
        Hold h = hold_one(t, plan);
        if (h.result != Hold::Result::refused || Clock::now() + 50ms >= deadline) return h;
        h.connection.close();
        std::this_thread::sleep_for(50ms);
    }
}

/// What the connection over the limit sees, watched in steps (so backpressure can be followed up).
class ExtraConnection {
public:
    enum class Seen : unsigned char { served, closed_silently, busy_line, waiting, failed };

    ExtraConnection(const Target& t, const ClientPlan& plan) : t_(t) {
        Opened o = open_client(t, plan, Until::connected);
        c_ = std::move(o.connection);
        failure_ = o.failure;
    }

    /// Watches until something decisive happens or `deadline`; can be called again after `waiting`.
    Seen watch(Deadline deadline) {
        detail_.clear();
        if (!failure_.empty()) return fail(failure_);
        const Protocol p = t_.protocol();
        if (!acted_ && (t_.implicit_tls() || !greets_first(p))) {
            // The client must speak first here: first give the server a moment to close at once.
            const ReadStatus status = c_.read_any(std::min(deadline, quiet_deadline(t_)));
            if (status == ReadStatus::closed && c_.buffer().empty()) return closed(c_.error());
            if (status == ReadStatus::failed) return fail(c_.error());
            if (status == ReadStatus::complete) return classify_after_read(c_.read_until(has_line, deadline));
            acted_ = true;
            if (t_.implicit_tls()) {
                const TlsOutcome tls = c_.start_tls(TlsOffer{}, deadline);
                if (tls.status == ReadStatus::timed_out) return Seen::waiting;
                if (!tls.established) return closed("TLS handshake: " + tls.error);
            }
        } else if (acted_ && t_.implicit_tls() && !c_.tls_active()) {
            const TlsOutcome tls = c_.resume_tls(deadline);
            if (tls.status == ReadStatus::timed_out) return Seen::waiting;
            if (!tls.established) return closed("TLS handshake: " + tls.error);
        }
        if (!greets_first(p) && !request_sent_) {
            request_sent_ = true;
            if (!c_.send(opening_request(p), deadline)) return closed(c_.error());
        }
        return classify_after_read(
            c_.read_until([p](std::string_view b) { return greeting_complete(p, b); }, deadline));
    }

    /// After a busy line: the server closes the connection.
    bool closes(Deadline deadline) {
        return c_.read_until([](std::string_view) { return false; }, deadline) == ReadStatus::closed;
    }

    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
    void close(Deadline deadline) { c_.close_politely(deadline); }

private:
    const Target& t_;
    Connection c_;
    std::string failure_;
    std::string detail_;
    bool acted_ = false;
    bool request_sent_ = false;

    static bool has_line(std::string_view b) { return b.find('\n') != std::string_view::npos; }

    Seen fail(std::string why) {
        detail_ = std::move(why);
        return Seen::failed;
    }
    Seen closed(std::string why) {
        detail_ = std::move(why);
        return Seen::closed_silently;
    }

    Seen classify_after_read(ReadStatus status) {
        std::string& b = c_.buffer();
        if (b.empty()) {
            if (status == ReadStatus::closed) return closed(c_.error());
            if (status == ReadStatus::timed_out) return Seen::waiting;
            return fail(c_.error());
        }
        detail_ = first_line(b);
        switch (classify_first_bytes(t_.protocol(), b)) {
        case FirstBytes::greeting: return Seen::served;
        case FirstBytes::busy: return Seen::busy_line;
        case FirstBytes::tls_record: return fail("a TLS record: '" + printable(b, 16) + "'");
        case FirstBytes::other: return fail("unexpected '" + detail_ + "'");
        }
        return Seen::failed;
    }
};

std::string_view policy_seen(ExtraConnection::Seen seen) {
    switch (seen) {
    case ExtraConnection::Seen::served: return "it was served";
    case ExtraConnection::Seen::closed_silently: return "it was closed without a word (the close policy)";
    case ExtraConnection::Seen::busy_line: return "it got a busy line (the busy policy, --overload busy)";
    case ExtraConnection::Seen::waiting:
        return "it got nothing and stayed open (backpressure, --overload backpressure)";
    case ExtraConnection::Seen::failed: return "it failed";
    }
    return "";
}

/// For HTTP, held connections are proven served afterwards: each finishes its request and gets a response.
void check_held_http_served(const Target& t, Report& r, std::vector<Hold>& held) {
    std::size_t served = 0;
    std::string why;
    for (auto& h : held) {
        Connection& c = h.connection;
        if (!c.is_open()) continue;
        const Protocol p = t.protocol();
        if (c.send("\r\n", t.step_deadline()) &&
            c.read_until([p](std::string_view b) { return greeting_complete(p, b); }, t.step_deadline()) ==
                ReadStatus::complete &&
            classify_first_bytes(p, c.buffer()) == FirstBytes::greeting)
            ++served;
        else if (why.empty())
            why = c.buffer().empty() ? c.error() : "'" + first_line(c.buffer()) + "'";
    }
    std::size_t open = 0;
    for (const auto& h : held) open += h.connection.is_open() ? 1 : 0;
    const std::string check = "the " + std::to_string(open) + " held HTTP connections are answered";
    if (served == open)
        r.pass(t.subject, check);
    else
        r.fail(t.subject, check, std::to_string(served) + " answered; " + why);
}

/// Twice the limit opened back to back, before any greeting is read: the server's counter must never
/// overshoot (Stalwart reads it, then increments it, so concurrent accepts can). Plaintext greeting
/// protocols only, where a served connection shows itself without the client saying anything.
void check_burst(const Target& t, Report& r, const ClientPlan& plan) {
    const std::size_t limit = t.listener.max_connections;
    const std::string check = "a burst of " + std::to_string(2 * limit) + " connections at once: at most " +
                              std::to_string(limit) + " served";
    std::vector<Connection> burst;
    burst.reserve(2 * limit);
    for (std::size_t i = 0; i < 2 * limit; ++i) {
        Opened o = open_client(t, plan, Until::connected);
        if (!o.failure.empty()) {
            r.fail(t.subject, check, o.failure);
            break;
        }
        burst.push_back(std::move(o.connection));
    }
    if (burst.size() == 2 * limit) {
        // Backpressure leaves the unserved ones waiting: a short shared wait tells them apart.
        const Deadline deadline =
            t.options.overload == OverloadExpectation::backpressure ? quiet_deadline(t) : t.step_deadline();
        const Protocol p = t.protocol();
        std::size_t served = 0;
        for (auto& c : burst)
            if (c.read_until([p](std::string_view b) { return greeting_complete(p, b); }, deadline) ==
                    ReadStatus::complete &&
                classify_first_bytes(p, c.buffer()) == FirstBytes::greeting)
                ++served;
        const std::string counts = std::to_string(served) + " served, " + std::to_string(2 * limit - served) + " not";
        if (served <= limit && served > 0)
            r.pass(t.subject, check + " (" + counts + ")");
        else
            r.fail(t.subject, check, counts);
    }
    for (auto& c : burst) c.shut_down_sending();
    const Deadline deadline = t.step_deadline();
    for (auto& c : burst) c.close_politely(deadline);
}

}  // namespace

void check_connection_limit(const Target& t, Report& r) {
    const std::uint32_t limit = t.listener.max_connections;
    if (limit > t.options.limit_bound) {
        r.skip(t.subject, "connection limit",
               "maxConnections " + std::to_string(limit) + " is above " + std::to_string(t.options.limit_bound) +
                   " connections; not tried");
        return;
    }
    if (limit == 0) {
        r.skip(t.subject, "connection limit", "maxConnections is 0");
        return;
    }
    const ClientPlan plan = ordinary_plan(t.listener, t.address.address());
    const OverloadExpectation expect = t.options.overload;
    const std::string extra_name = ordinal(std::size_t{limit} + 1);
    const std::string check = "maxConnections " + std::to_string(limit) + ": the " + extra_name + " connection " +
                              (expect == OverloadExpectation::close  ? "is closed without a greeting"
                               : expect == OverloadExpectation::busy ? "gets the busy line and is closed"
                                                                     : "waits until a held one closes");

    std::vector<Hold> held;
    held.reserve(limit);
    auto release_all = [&] {
        for (auto& h : held) h.connection.shut_down_sending();
        const Deadline deadline = t.step_deadline();
        for (auto& h : held) h.connection.close_politely(deadline);
        held.clear();
    };
    for (std::uint32_t i = 0; i < limit; ++i) {
        Hold h = hold_with_retries(t, plan);
        if (h.result != Hold::Result::held) {
            r.fail(t.subject, check,
                   "the " + ordinal(std::size_t{i} + 1) + " connection was not served (" + h.why + ")" +
                       (h.result == Hold::Result::refused ? ": the server allows fewer than " + std::to_string(limit)
                                                          : ""));
            release_all();
            return;
        }
        held.push_back(std::move(h));
    }

    const bool backpressure = expect == OverloadExpectation::backpressure;
    std::optional<ExtraConnection> extra_slot(std::in_place, t, plan);
    auto seen = extra_slot->watch(backpressure ? quiet_deadline(t) : t.step_deadline());
    if (seen == ExtraConnection::Seen::closed_silently || seen == ExtraConnection::Seen::busy_line) {
        // A refusal so soon after the earlier checks may be the server still giving their permits back
        // (their connections closed a moment ago): the verdict is the next connection's, 100 ms later.
        std::this_thread::sleep_for(100ms);
        extra_slot->close(t.step_deadline());
        extra_slot.emplace(t, plan);
        seen = extra_slot->watch(t.step_deadline());
    }
    ExtraConnection& extra = *extra_slot;
    const std::string what =
        std::string(policy_seen(seen)) + (extra.detail().empty() ? "" : " (" + extra.detail() + ")");
    switch (expect) {
    case OverloadExpectation::close:
        if (seen == ExtraConnection::Seen::closed_silently)
            r.pass(t.subject, check);
        else if (seen == ExtraConnection::Seen::served)
            r.fail(t.subject, check, what + ": the server allows more than " + std::to_string(limit));
        else
            r.fail(t.subject, check, what);
        break;
    case OverloadExpectation::busy:
        if (seen == ExtraConnection::Seen::busy_line) {
            if (extra.closes(t.step_deadline()))
                r.pass(t.subject, check + " ('" + extra.detail() + "')");
            else
                r.fail(t.subject, check,
                       "the busy line came ('" + extra.detail() + "') but the connection stayed open");
        } else if (seen == ExtraConnection::Seen::closed_silently && t.implicit_tls()) {
            r.pass(t.subject, check + " (implicit TLS: closed at once, a busy line cannot come before the handshake)");
        } else {
            r.fail(t.subject, check, what);
        }
        break;
    case OverloadExpectation::backpressure:
        if (seen != ExtraConnection::Seen::waiting) {
            r.fail(t.subject, check, what);
            break;
        }
        held.back().connection.close_politely(t.step_deadline());
        held.pop_back();
        if (const auto after = extra.watch(t.step_deadline()); after == ExtraConnection::Seen::served)
            r.pass(t.subject, check + " ('" + extra.detail() + "')");
        else
            r.fail(t.subject, check,
                   "after one held connection closed, " + std::string(policy_seen(after)) +
                       (extra.detail().empty() ? "" : " (" + extra.detail() + ")"));
        break;
    }
    if (!greets_first(t.protocol())) check_held_http_served(t, r, held);
    extra.close(t.step_deadline());
    release_all();

    // Every permit came back: a new connection is served again.
    Hold again = hold_with_retries(t, plan);
    if (again.result == Hold::Result::held)
        r.pass(t.subject, "after releasing them, a new connection is served");
    else
        r.fail(t.subject, "after releasing them, a new connection is served", again.why);
    again.connection.close_politely(t.step_deadline());
    if (again.result == Hold::Result::held && greets_first(t.protocol()) && !t.implicit_tls()) check_burst(t, r, plan);
}

}  // namespace berth::probe

#endif  // BERTH_CLI_SERVE
