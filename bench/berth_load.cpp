// berth_load: a loopback load generator that measures the SERVER, not itself. On a small machine the client
// is the bottleneck, so rates alone would compare clients; instead the tool samples the server's CPU time and
// resident memory from /proc before and after each phase and reports them per connection:
//
//   connect-rate  connect, read the greeting line, close; server CPU per connection
//   tls-rate      connect, full TLS 1.3 handshake (no resumption), read the greeting, close; server CPU per
//                 handshake
//   hold          open N connections (plain, or TLS with --tls), read each greeting, hold them idle for a few
//                 seconds; server RSS growth per idle connection
//
// Single-threaded and non-blocking (one epoll set); bounded in time (--seconds, a per-connection timeout, a
// drain limit) and in count (--connections). Only loopback targets are accepted. Method and targets:
// docs/performance.md.
//
// The rate modes take several targets (each --target with its own --server-pid, in order): connections then
// go to the targets in turn, so every server is measured over the same seconds, under the same machine load,
// connection by connection. On a shared machine whose speed drifts from second to second, that is the
// steadiest comparison there is.

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "process_sample.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using berth_load::ProcessSample;

enum class Mode : std::uint8_t { connect_rate, tls_rate, hold };

struct Target {
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string text;
    std::optional<long> server_pid;
};

struct Options {
    Mode mode = Mode::connect_rate;
    std::vector<Target> targets;
    double seconds = 5;
    std::optional<std::uint64_t> connections;  ///< default depends on the mode
    std::optional<unsigned> concurrency;       ///< default depends on the mode
    bool tls = false;
    unsigned warmup = 16;
    unsigned turn = 100;  ///< several targets: connections started to one before the next one's turn
    std::chrono::milliseconds timeout{5000};
};

constexpr std::string_view usage_text = R"(usage: berth_load MODE --target HOST:PORT [options]

modes:
  connect-rate   connect, read the greeting line, close; reports server CPU per connection
  tls-rate       the same with a full TLS 1.3 handshake (no resumption); server CPU per handshake
  hold           open N connections (plain, or TLS with --tls), read each greeting, keep them idle for
                 --seconds; server RSS growth per idle connection

options:
  --target HOST:PORT   loopback only: 127.0.0.0/8 or [::1]. Rate modes: repeat it to load several servers
                       at once, connections going to each in turn (at most 8)
  --server-pid PID     the server to measure (/proc/PID/stat and /proc/PID/status); without it only rates.
                       With several targets, one per target, in the same order
  --seconds S          rate modes: how long to run (default 5); hold: how long to hold (default 3); max 300
  --connections N      rate modes: stop after N connections (default: no limit but time); hold: how many
                       to hold (default 1000); max 1000000
  --concurrency C      connections in progress at once (default 8; hold: 64); max 10000
  --tls                hold: TLS 1.3 connections
  --warmup N           connections made and closed before the first sample (default 16)
  --turn N             several targets: connections started to one target before the next one's turn
                       (default 100: a few milliseconds, short against the machine's drift, long against
                       the cost of the servers taking turns on one core)
  --timeout-ms MS      per connection, until the greeting is read (default 5000)

The last line of output is machine-readable: RESULT key=value ...
Exit status: 0 measured, 1 too many failures (over 1%) or the server could not be sampled, 2 usage.
)";

template <class T>
std::optional<T> number(std::string_view text, T min, T max) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
    return value;
}

/// HOST:PORT with a numeric loopback host. The tool refuses anything else: it is for measuring one's own
/// machine, never for loading someone else's.
bool parse_target(std::string_view text, Target& target) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    const auto port = number<unsigned>(text.substr(colon + 1), 1, 65535);
    std::string host(text.substr(0, colon));
    if (!port) return false;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_port = htons(static_cast<std::uint16_t>(*port));
        if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &address.sin6_addr) != 1 ||
            !IN6_IS_ADDR_LOOPBACK(&address.sin6_addr))
            return false;
        std::memcpy(&target.address, &address, sizeof address);
        target.length = sizeof address;
    } else {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(*port));
        if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 || (ntohl(address.sin_addr.s_addr) >> 24) != 127)
            return false;
        std::memcpy(&target.address, &address, sizeof address);
        target.length = sizeof address;
    }
    target.text = std::string(text);
    return true;
}

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    auto fail = [](const char* what) -> std::optional<Options> {
        std::fprintf(stderr, "berth_load: %s\n\n%s", what, usage_text.data());
        return std::nullopt;
    };
    if (argc < 2) return fail("no mode given");
    const std::string_view mode = argv[1];
    if (mode == "--help" || mode == "-h") {
        std::fputs(usage_text.data(), stdout);
        return std::nullopt;
    }
    if (mode == "connect-rate") options.mode = Mode::connect_rate;
    else if (mode == "tls-rate") options.mode = Mode::tls_rate;
    else if (mode == "hold") options.mode = Mode::hold;
    else return fail("the mode is connect-rate, tls-rate or hold");
    options.tls = options.mode == Mode::tls_rate;
    if (options.mode == Mode::hold) options.seconds = 3;

    std::vector<long> server_pids;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--tls") {
            if (options.mode != Mode::hold) return fail("--tls is for hold (tls-rate is always TLS)");
            options.tls = true;
            continue;
        }
        if (i + 1 >= argc) return fail("an option is missing its value");
        const std::string_view value = argv[++i];
        if (arg == "--target") {
            Target target;
            if (!parse_target(value, target))
                return fail("--target must be a numeric loopback address and port: 127.0.0.1:PORT or [::1]:PORT");
            options.targets.push_back(std::move(target));
        } else if (arg == "--server-pid") {
            const auto pid = number<long>(value, 1, 1L << 30);
            if (!pid) return fail("--server-pid takes a process id");
            server_pids.push_back(*pid);
        } else if (arg == "--seconds") {
            const auto seconds = number<unsigned>(value, 1, 300);
            if (!seconds) return fail("--seconds takes 1..300");
            options.seconds = *seconds;
        } else if (arg == "--connections") {
            const auto count = number<std::uint64_t>(value, 1, 1'000'000);
            if (!count) return fail("--connections takes 1..1000000");
            options.connections = *count;
        } else if (arg == "--concurrency") {
            const auto count = number<unsigned>(value, 1, 10'000);
            if (!count) return fail("--concurrency takes 1..10000");
            options.concurrency = *count;
        } else if (arg == "--warmup") {
            const auto count = number<unsigned>(value, 0, 10'000);
            if (!count) return fail("--warmup takes 0..10000");
            options.warmup = *count;
        } else if (arg == "--turn") {
            const auto count = number<unsigned>(value, 1, 1'000'000);
            if (!count) return fail("--turn takes 1..1000000");
            options.turn = *count;
        } else if (arg == "--timeout-ms") {
            const auto ms = number<unsigned>(value, 10, 60'000);
            if (!ms) return fail("--timeout-ms takes 10..60000");
            options.timeout = std::chrono::milliseconds(*ms);
        } else {
            return fail("unknown option");
        }
    }
    if (options.targets.empty()) return fail("--target is required");
    if (options.targets.size() > 8) return fail("at most 8 targets");
    if (options.targets.size() > 1 && options.mode == Mode::hold) return fail("hold takes one target");
    if (server_pids.size() > options.targets.size()) return fail("more --server-pid than --target");
    if (options.targets.size() > 1 && !server_pids.empty() && server_pids.size() != options.targets.size())
        return fail("with several targets, give one --server-pid per target or none");
    for (std::size_t i = 0; i < server_pids.size(); ++i) options.targets[i].server_pid = server_pids[i];
    return options;
}

struct FreeContext {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};

/// TLS 1.3 only, no session cache (so no resumption), no certificate verification: the server's cost is what
/// is measured, and the yardstick's certificate is self-signed.
std::unique_ptr<SSL_CTX, FreeContext> client_context() {
    std::unique_ptr<SSL_CTX, FreeContext> context(SSL_CTX_new(TLS_client_method()));
    if (!context || SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), TLS1_3_VERSION) != 1)
        return nullptr;
    SSL_CTX_set_session_cache_mode(context.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    return context;
}

struct Counts {
    std::uint64_t started = 0;
    std::uint64_t greeted = 0;  ///< connections that read their greeting line
    std::vector<std::uint64_t> greeted_by_target;
    std::uint64_t failed = 0;
    std::uint64_t abandoned = 0;  ///< still in progress when the drain limit passed
    std::map<std::string, std::uint64_t> failures;
};

struct Connection {
    enum class Phase : std::uint8_t { connecting, handshake, greeting, held };
    int fd = -1;
    SSL* ssl = nullptr;
    Phase phase = Phase::connecting;
    std::uint8_t target = 0;  ///< index in Options::targets
    Clock::time_point started{};
    std::uint32_t events = 0;
    std::size_t index = 0;  ///< position in the engine's list of its phase (in progress, or held)
    std::size_t received = 0;
    std::array<char, 4096> line{};
};

/// Runs connections to the target: starts them up to the concurrency, takes each through connect, TLS and the
/// greeting, then closes it (rate modes) or keeps it (hold).
class Engine {
public:
    Engine(const Options& options, SSL_CTX* tls, bool keep_after_greeting)
        : options_(options), tls_(tls), keep_(keep_after_greeting), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
        counts_.greeted_by_target.assign(options.targets.size(), 0);
    }
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine() {
        close_all();
        if (epoll_ >= 0) close(epoll_);
    }

    [[nodiscard]] bool ready() const { return epoll_ >= 0; }
    [[nodiscard]] const Counts& counts() const { return counts_; }
    [[nodiscard]] std::size_t held() const { return held_.size(); }
    /// Version, cipher suite and key-exchange group of the first TLS handshake, to show what was measured.
    [[nodiscard]] const std::string& negotiated() const { return negotiated_; }

    /// Starts connections until `count` have been started or `stop_starting` passes, never more than the
    /// concurrency at once; then waits for those in progress until `give_up`, and abandons the rest.
    void run(std::uint64_t count, Clock::time_point stop_starting, Clock::time_point give_up) {
        const unsigned concurrency = options_.concurrency.value_or(keep_ ? 64U : 8U);
        const std::uint64_t target = counts_.started + count;
        for (;;) {
            const auto now = Clock::now();
            bool start_failed = false;
            if (hopeless()) stop_starting = now;
            while (in_progress_.size() < concurrency && counts_.started < target && now < stop_starting)
                if (!start()) {
                    start_failed = true;  // e.g. no local port: wait a little instead of spinning
                    break;
                }
            if (in_progress_.empty() && (counts_.started >= target || now >= stop_starting)) return;
            if (now >= give_up) break;
            const auto next = std::min({now + std::chrono::milliseconds(start_failed ? 10 : 100), give_up,
                                        counts_.started < target ? stop_starting : give_up});
            poll(next);
            expire(Clock::now());
        }
        while (!in_progress_.empty()) {
            ++counts_.abandoned;
            release(in_progress_.back());
        }
    }

    /// Keeps the held connections, noting any the server closes, until `until`.
    void idle(Clock::time_point until) {
        while (Clock::now() < until) poll(until);
    }

    void close_all() {
        while (!in_progress_.empty()) release(in_progress_.back());
        while (!held_.empty()) release(held_.back());
    }

private:
    const Options& options_;
    SSL_CTX* tls_;
    bool keep_;
    int epoll_;
    std::vector<Connection*> in_progress_;
    std::vector<Connection*> held_;
    Counts counts_;
    std::uint32_t next_source_ = 0;
    std::size_t next_target_ = 0;
    unsigned started_in_turn_ = 0;
    std::string negotiated_;

    /// A thousand failures and more failures than greetings: the server is not there or refuses everything.
    /// Going on would only measure how fast the client can fail.
    [[nodiscard]] bool hopeless() const { return counts_.failed >= 1000 && counts_.failed > counts_.greeted; }

    void poll(Clock::time_point until) {
        std::array<epoll_event, 256> events{};
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
        const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                     static_cast<int>(std::clamp<long long>(wait, 0, 1000)));
        for (int i = 0; i < ready; ++i) on_event(static_cast<Connection*>(events[static_cast<std::size_t>(i)].data.ptr));
    }

    void expire(Clock::time_point now) {
        for (std::size_t i = in_progress_.size(); i-- > 0;) {
            Connection* c = in_progress_[i];
            if (now - c->started > options_.timeout) fail(c, "timed out before the greeting");
        }
    }

    /// A connection that the server closes or that fails, in whatever phase: counted once, by reason.
    void fail(Connection* c, const std::string& reason) {
        ++counts_.failed;
        ++counts_.failures[reason];
        release(c);
    }

    std::vector<Connection*>& list_of(const Connection* c) {
        return c->phase == Connection::Phase::held ? held_ : in_progress_;
    }

    void remove_from_list(Connection* c) {
        auto& list = list_of(c);
        list[c->index] = list.back();
        list[c->index]->index = c->index;
        list.pop_back();
    }

    void release(Connection* c) {
        remove_from_list(c);
        if (c->ssl) SSL_free(c->ssl);
        if (c->fd >= 0) close(c->fd);
        ERR_clear_error();
        delete c;
    }

    bool start() {
        const std::size_t target_index = next_target_;
        if (++started_in_turn_ >= options_.turn) {
            started_in_turn_ = 0;
            next_target_ = (next_target_ + 1) % options_.targets.size();
        }
        const Target& target = options_.targets[target_index];
        const int family = target.address.ss_family;
        const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return note_start_failure("socket", errno);
        if (family == AF_INET) spread_source_address(fd);
        auto* c = new Connection;
        c->fd = fd;
        c->target = static_cast<std::uint8_t>(target_index);
        c->started = Clock::now();
        c->index = in_progress_.size();
        in_progress_.push_back(c);
        ++counts_.started;
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.ptr = c;
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
            fail(c, std::string("epoll_ctl: ") + std::strerror(errno));
            return false;
        }
        c->events = EPOLLOUT;
        if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.length) == 0) {
            connected(c);
        } else if (errno != EINPROGRESS) {
            fail(c, std::string("connect: ") + std::strerror(errno));
            return false;
        }
        return true;
    }

    bool note_start_failure(const char* what, int error) {
        ++counts_.started;
        ++counts_.failed;
        ++counts_.failures[std::string(what) + ": " + std::strerror(error)];
        return false;
    }

    /// Client sockets take their source address from 127.0.0.2 .. 127.0.0.254 in turn (the kernel still picks
    /// the port at connect): at tens of thousands of connections a second, one source address would run out
    /// of ports held in TIME_WAIT after the client's close.
    void spread_source_address(int fd) {
        const int on = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl((127U << 24) | (2U + next_source_++ % 253U));
        bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source);  // on failure the kernel chooses
    }

    void wait_for(Connection* c, std::uint32_t events) {
        if (c->events == events) return;
        epoll_event event{};
        event.events = events;
        event.data.ptr = c;
        if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &event) == 0) c->events = events;
    }

    void on_event(Connection* c) {
        switch (c->phase) {
        case Connection::Phase::connecting: {
            int error = 0;
            socklen_t length = sizeof error;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
            if (error != 0) {
                fail(c, std::string("connect: ") + std::strerror(error));
                return;
            }
            connected(c);
            return;
        }
        case Connection::Phase::handshake:
        case Connection::Phase::greeting: advance(c); return;
        case Connection::Phase::held: check_held(c); return;
        }
    }

    void connected(Connection* c) {
        if (tls_) {
            c->ssl = SSL_new(tls_);
            if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
                fail(c, "SSL_new failed");
                return;
            }
            SSL_set_connect_state(c->ssl);
            SSL_set_tlsext_host_name(c->ssl, "localhost");
            c->phase = Connection::Phase::handshake;
        } else {
            c->phase = Connection::Phase::greeting;
        }
        advance(c);
    }

    /// What a failed TLS call means, as a reason to count.
    static std::string tls_failure(SSL* ssl, int result, const char* during) {
        const int error = SSL_get_error(ssl, result);
        if (error == SSL_ERROR_ZERO_RETURN) return std::string("closed by the server during ") + during;
        if (error == SSL_ERROR_SYSCALL) {
            const unsigned long queued = ERR_peek_error();
            if (queued == 0) return std::string("connection closed or reset during ") + during;
        }
        std::array<char, 256> text{};
        ERR_error_string_n(ERR_get_error(), text.data(), text.size());
        return std::string("TLS error during ") + during + ": " + text.data();
    }

    void advance(Connection* c) {
        if (c->phase == Connection::Phase::handshake) {
            const int result = SSL_do_handshake(c->ssl);
            if (result != 1) {
                const int error = SSL_get_error(c->ssl, result);
                if (error == SSL_ERROR_WANT_READ) wait_for(c, EPOLLIN);
                else if (error == SSL_ERROR_WANT_WRITE) wait_for(c, EPOLLOUT);
                else fail(c, tls_failure(c->ssl, result, "the handshake"));
                return;
            }
            c->phase = Connection::Phase::greeting;
            if (negotiated_.empty()) note_negotiated(c->ssl);
        }
        // The greeting: read until a line feed, at most the buffer.
        for (;;) {
            char* into = c->line.data() + c->received;
            const std::size_t room = c->line.size() - c->received;
            if (room == 0) {
                fail(c, "no line feed in the first 4096 bytes");
                return;
            }
            long got = 0;
            if (c->ssl) {
                const int result = SSL_read(c->ssl, into, static_cast<int>(room));
                if (result <= 0) {
                    const int error = SSL_get_error(c->ssl, result);
                    if (error == SSL_ERROR_WANT_READ) wait_for(c, EPOLLIN);
                    else if (error == SSL_ERROR_WANT_WRITE) wait_for(c, EPOLLOUT);
                    else fail(c, tls_failure(c->ssl, result, "the greeting"));
                    return;
                }
                got = result;
            } else {
                const ssize_t result = recv(c->fd, into, room, 0);
                if (result == 0) {
                    fail(c, "closed by the server before the greeting");
                    return;
                }
                if (result < 0) {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN) {
                        wait_for(c, EPOLLIN);
                        return;
                    }
                    fail(c, std::string("read: ") + std::strerror(errno));
                    return;
                }
                got = result;
            }
            const std::string_view fresh(into, static_cast<std::size_t>(got));
            c->received += static_cast<std::size_t>(got);
            if (fresh.find('\n') != std::string_view::npos) {
                greeted(c);
                return;
            }
        }
    }

    void note_negotiated(SSL* ssl) {
        negotiated_ = std::string(SSL_get_version(ssl)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
#if defined(OPENSSL_IS_BORINGSSL)
        if (const char* group = SSL_get_curve_name(SSL_get_curve_id(ssl))) negotiated_ += std::string(" ") + group;
#else
        if (const char* group = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl)))
            negotiated_ += std::string(" ") + group;
#endif
    }

    void greeted(Connection* c) {
        ++counts_.greeted;
        ++counts_.greeted_by_target[c->target];
        if (!keep_) {
            if (c->ssl) SSL_shutdown(c->ssl);  // sends close_notify; the reply is not waited for
            release(c);
            return;
        }
        remove_from_list(c);
        c->phase = Connection::Phase::held;
        c->index = held_.size();
        held_.push_back(c);
        wait_for(c, EPOLLIN | EPOLLRDHUP);
    }

    /// A held connection became readable: data is read and dropped; a close by the server is a failure.
    void check_held(Connection* c) {
        std::array<char, 512> buffer{};
        for (;;) {
            if (c->ssl) {
                const int result = SSL_read(c->ssl, buffer.data(), static_cast<int>(buffer.size()));
                if (result > 0) continue;
                const int error = SSL_get_error(c->ssl, result);
                if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
                fail(c, tls_failure(c->ssl, result, "the hold"));
                return;
            }
            const ssize_t result = recv(c->fd, buffer.data(), buffer.size(), 0);
            if (result > 0 || (result < 0 && errno == EINTR)) continue;
            if (result < 0 && errno == EAGAIN) return;
            fail(c, "closed by the server during the hold");
            return;
        }
    }
};

/// Both descriptors: holding thousands of connections needs more than the usual soft limit of 1024.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

double client_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string_view mode_name(Mode mode) {
    switch (mode) {
    case Mode::connect_rate: return "connect-rate";
    case Mode::tls_rate: return "tls-rate";
    case Mode::hold: return "hold";
    }
    return "?";
}

/// Samples the target's server, if one was named; prints why when it cannot.
std::optional<ProcessSample> sample(const Target& target) {
    if (!target.server_pid) return std::nullopt;
    auto s = berth_load::sample_process(*target.server_pid);
    if (!s) std::fprintf(stderr, "berth_load: cannot read /proc/%ld (is the server running?)\n", *target.server_pid);
    return s;
}

std::vector<std::optional<ProcessSample>> sample_all(const Options& options) {
    std::vector<std::optional<ProcessSample>> samples;
    for (const Target& target : options.targets) samples.push_back(sample(target));
    return samples;
}

void print_failures(const Counts& counts) {
    for (const auto& [reason, count] : counts.failures)
        std::printf("  failed: %llu x %s\n", static_cast<unsigned long long>(count), reason.c_str());
}

bool too_many_failures(const Counts& counts) {
    if (counts.greeted == 0 || (counts.failed + counts.abandoned) * 100 > counts.started) return true;
    return std::any_of(counts.greeted_by_target.begin(), counts.greeted_by_target.end(),
                       [](std::uint64_t greeted) { return greeted == 0; });
}

/// One target's server CPU over the run, printed, and added to `result` (keys prefixed with `key_prefix`).
/// False when the number cannot be trusted.
bool report_server_cpu(const Target& target, const std::optional<ProcessSample>& before,
                       const std::optional<ProcessSample>& after, std::uint64_t greeted_count, double elapsed,
                       std::string_view per, const std::string& key_prefix, std::string& result) {
    if (!target.server_pid) return true;
    if (!before || !after) return false;
    const double greeted = static_cast<double>(greeted_count);
    const berth_load::CpuBetween cpu = berth_load::cpu_between(*before, *after);
    const double per_connection_us = greeted > 0 ? cpu.seconds * 1e6 / greeted : 0.0;
    std::printf("  server CPU%s%s: %.3f s (%s; %llu ticks in /proc/PID/stat), %.1f%% of one core; per %s: %.1f us\n",
                key_prefix.empty() ? "" : " of ", key_prefix.empty() ? "" : target.text.c_str(), cpu.seconds,
                cpu.exact ? "schedstat" : "ticks", static_cast<unsigned long long>(cpu.ticks),
                elapsed > 0 ? cpu.seconds * 100 / elapsed : 0.0, per.data(), per_connection_us);
    result += " " + key_prefix + "server_cpu_ticks=" + std::to_string(cpu.ticks) + " " + key_prefix +
              "server_cpu_s=" + std::to_string(cpu.seconds) + " " + key_prefix +
              "server_cpu_source=" + (cpu.exact ? "schedstat" : "ticks") + " " + key_prefix + "server_cpu_us_per_" +
              std::string(per) + "=" + std::to_string(per_connection_us);
    // A server that served hundreds of connections without a measurable microsecond of CPU is not the
    // process that served them (a wrapper script, a parent that forked): refuse the number.
    const bool trusted = cpu.seconds > 0 || greeted_count < 100;
    if (!trusted)
        std::fprintf(stderr, "berth_load: process %ld used no CPU for %llu connections: is it the server?\n",
                     *target.server_pid, static_cast<unsigned long long>(greeted_count));
    return trusted;
}

/// connect-rate and tls-rate.
int measure_rate(const Options& options, SSL_CTX* tls) {
    const std::uint64_t limit = options.connections.value_or(1'000'000);
    if (options.warmup > 0) {
        Engine warmup(options, tls, false);
        const auto now = Clock::now();
        warmup.run(options.warmup, now + options.timeout, now + options.timeout);
    }
    Engine engine(options, tls, false);
    if (!engine.ready()) return 1;
    const auto before = sample_all(options);
    const double client_before = client_cpu_seconds();
    const auto start = Clock::now();
    const auto stop = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    engine.run(limit, stop, stop + std::chrono::seconds(2));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double client_cpu = client_cpu_seconds() - client_before;
    // The server closes each connection after reading the client's close; give it a moment to finish the
    // last ones, so their cost is counted.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto after = sample_all(options);

    const Counts& counts = engine.counts();
    const double greeted = static_cast<double>(counts.greeted);
    const std::string_view per = options.mode == Mode::tls_rate ? "handshake" : "connection";
    std::string targets_text;
    for (const Target& target : options.targets) targets_text += (targets_text.empty() ? "" : ", ") + target.text;
    std::printf("%s against %s: %llu greeted, %llu failed, %llu abandoned in %.2f s (%.0f per second)\n",
                mode_name(options.mode).data(), targets_text.c_str(),
                static_cast<unsigned long long>(counts.greeted), static_cast<unsigned long long>(counts.failed),
                static_cast<unsigned long long>(counts.abandoned), elapsed, elapsed > 0 ? greeted / elapsed : 0.0);
    print_failures(counts);
    if (!engine.negotiated().empty()) std::printf("  negotiated: %s\n", engine.negotiated().c_str());
    std::printf("  client CPU per %s: %.1f us (the client is usually the bottleneck)\n", per.data(),
                greeted > 0 ? client_cpu * 1e6 / greeted : 0.0);
    std::string result = "RESULT mode=" + std::string(mode_name(options.mode)) +
                         " greeted=" + std::to_string(counts.greeted) + " failed=" + std::to_string(counts.failed) +
                         " abandoned=" + std::to_string(counts.abandoned) + " seconds=" + std::to_string(elapsed) +
                         " rate_per_s=" + std::to_string(elapsed > 0 ? greeted / elapsed : 0.0) +
                         " client_cpu_us_per_" + std::string(per) + "=" +
                         std::to_string(greeted > 0 ? client_cpu * 1e6 / greeted : 0.0);
    bool sampled = true;
    const bool several = options.targets.size() > 1;
    for (std::size_t i = 0; i < options.targets.size(); ++i) {
        // One target keeps the keys it always had; several get target<i>_ in front of theirs.
        const std::string prefix = several ? "target" + std::to_string(i) + "_" : "";
        if (several) result += " " + prefix + "greeted=" + std::to_string(counts.greeted_by_target[i]);
        sampled = report_server_cpu(options.targets[i], before[i], after[i], counts.greeted_by_target[i], elapsed,
                                    per, prefix, result) && sampled;
    }
    std::printf("%s\n", result.c_str());
    return too_many_failures(counts) || !sampled ? 1 : 0;
}

int measure_hold(const Options& options, SSL_CTX* tls) {
    const std::uint64_t count = options.connections.value_or(1000);
    // A few connections first, so that what a server sets up once (buffers, TLS tables, allocator arenas)
    // is not charged to the idle connections.
    if (options.warmup > 0) {
        Engine warmup(options, tls, false);
        const auto now = Clock::now();
        warmup.run(options.warmup, now + options.timeout, now + options.timeout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Engine engine(options, tls, true);
    if (!engine.ready()) return 1;
    const Target& target = options.targets.front();
    const auto before = sample(target);

    // Opening is bounded by the per-connection timeout times the number of rounds of `concurrency`, and by
    // a minute in all.
    const auto start = Clock::now();
    engine.run(count, start + std::chrono::seconds(60), start + std::chrono::seconds(62));
    const double opening = std::chrono::duration<double>(Clock::now() - start).count();
    const std::size_t held = engine.held();
    const auto hold_start_sample = sample(target);
    engine.idle(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds)));
    const auto after = sample(target);
    const std::size_t still_held = engine.held();
    engine.close_all();

    const Counts& counts = engine.counts();
    std::printf("hold%s against %s: %zu of %llu connections open after %.2f s, %zu still open after %.0f s idle\n",
                options.tls ? " (TLS 1.3)" : "", target.text.c_str(), held,
                static_cast<unsigned long long>(count), opening, still_held, options.seconds);
    print_failures(counts);
    if (!engine.negotiated().empty()) std::printf("  negotiated: %s\n", engine.negotiated().c_str());
    std::string result = "RESULT mode=hold tls=" + std::string(options.tls ? "1" : "0") +
                         " requested=" + std::to_string(count) + " held=" + std::to_string(still_held) +
                         " failed=" + std::to_string(counts.failed) + " abandoned=" + std::to_string(counts.abandoned);
    bool sampled = !target.server_pid.has_value();
    if (before && after && hold_start_sample && still_held > 0) {
        const auto growth_kib = static_cast<long long>(after->rss_kib) - static_cast<long long>(before->rss_kib);
        const double per_connection = static_cast<double>(growth_kib) * 1024.0 / static_cast<double>(still_held);
        const berth_load::CpuBetween idle = berth_load::cpu_between(*hold_start_sample, *after);
        std::printf("  server RSS: %llu KiB before, %llu KiB with the connections open: %.0f bytes per idle "
                    "connection\n",
                    static_cast<unsigned long long>(before->rss_kib), static_cast<unsigned long long>(after->rss_kib),
                    per_connection);
        std::printf("  server CPU while idle: %.4f s in %.0f s\n", idle.seconds, options.seconds);
        result += " server_rss_before_kib=" + std::to_string(before->rss_kib) +
                  " server_rss_after_kib=" + std::to_string(after->rss_kib) +
                  " server_rss_bytes_per_connection=" + std::to_string(per_connection) +
                  " server_idle_cpu_s=" + std::to_string(idle.seconds);
        sampled = true;
    }
    std::printf("%s\n", result.c_str());
    return still_held < count || !sampled ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = parse_options(argc, argv);
    if (!options) return argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") ? 0 : 2;
    std::signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();
    std::unique_ptr<SSL_CTX, FreeContext> tls;
    if (options->tls) {
        tls = client_context();
        if (!tls) {
            std::fprintf(stderr, "berth_load: TLS client set-up failed\n");
            return 1;
        }
    }
    return options->mode == Mode::hold ? measure_hold(*options, tls.get()) : measure_rate(*options, tls.get());
}
