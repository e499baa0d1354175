// `berth serve [FILE] [--threads N]`: serves every listener of a configuration with a small greeter
// per protocol, so real clients (openssl s_client, swaks, curl, HAProxy) can talk to it.
#include "cli.hpp"

#if BERTH_CLI_SERVE

#include <signal.h>

#include <asio/bind_allocator.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "berth/net.hpp"
#include "greeter.hpp"
#include "serve_certificate.hpp"

namespace berth::cli {

namespace {

constexpr std::string_view usage_line = "berth serve [FILE] [--threads N] [--grace SECONDS] [--host NAME]";
constexpr std::string_view help_text = R"(berth serve: run every listener of a configuration

usage: berth serve [FILE] [--threads N] [--grace SECONDS] [--host NAME]

Binds every address of every listener (all or nothing), then answers each connection with a small
greeter for the listener's protocol: SMTP/LMTP (220, EHLO/LHLO, STARTTLS, QUIT), IMAP (greeting,
CAPABILITY, STARTTLS, LOGOUT), POP3 (greeting, CAPA, STLS, QUIT), ManageSieve (capabilities,
STARTTLS, LOGOUT) and HTTP (a status page listing the listeners). STARTTLS is offered only where the
listener has tls.enable and not tls.implicit; implicit-TLS listeners handshake first. PROXY headers are
required from the listener's trusted networks; maxConnections is enforced (over it: closed at once).

Without FILE it serves its embedded configuration (below). The certificate comes from the file's first
[certificate.<id>] table (cert and private-key, PEM or %{file:PATH}%), else a self-signed ECDSA P-256
certificate is made at start.

--threads N     I/O threads (default 1); with N > 1 and reuse-port, one socket per thread per address
--grace S       on Ctrl-C / SIGTERM, how long sessions may finish before they are cancelled (default 5)
--host NAME     the name in greetings and the self-signed certificate (default localhost)

It prints the bound addresses at start, logs refused and failed connections on standard error, and
exits 0 after a clean shutdown, 1 when the configuration is invalid or a bind fails, 2 on a usage error.

The embedded configuration:
)";

/// The seed document's final example, moved to unprivileged loopback ports.
constexpr std::string_view embedded_configuration = R"([server.listener."smtp"]
bind = ["127.0.0.1:2525"]
protocol = "smtp"

[server.listener."submission"]
bind = ["127.0.0.1:2587"]
protocol = "smtp"

[server.listener."submissions"]
bind = ["127.0.0.1:2465"]
protocol = "smtp"
tls.implicit = true

[server.listener."management"]
bind = ["127.0.0.1:8080"]
protocol = "http"
)";

/// Logs what a person running the server wants to see: refusals and failures, not every connection.
struct ServeLog {
    void on_event(const Event& e) const noexcept {
        if (e.kind == EventKind::accepted) return;
        static std::mutex serialise;  // one line at a time from several I/O threads
        std::lock_guard<std::mutex> lock(serialise);
        std::fprintf(stderr, "berth: %s: %s%s%s%s%s\n", e.listener ? e.listener->name.c_str() : "?",
                     std::string(to_string(e.kind)).c_str(), e.peer ? " from " : "",
                     e.peer ? e.peer->to_string().c_str() : "", e.error ? (": " + e.error.message()).c_str() : "",
                     e.detail.empty() ? "" : (" (" + std::string(e.detail) + ")").c_str());
    }
};

using ServePolicies = Policies<>::with_events<ServeLog>;
using ServeServer = BasicServerRunner<asio::ip::tcp, ServePolicies>;

/// One conversation: greet, answer line by line, upgrade on STARTTLS, stop on QUIT or at shutdown.
/// Written as completion handlers rather than a coroutine. It waits for the client with
/// async_wait_readable before any buffer exists, then reads what has arrived and answers it in the
/// same call (read_some_now, write_some_now): an idle connection holds this small object and nothing
/// else of its own, and a reply the socket takes whole costs one system call and no operation
/// (docs/performance.md). Only what cannot be done at once goes through asynchronous operations.
template <class Done>
class Conversation {
public:
    using Owner = std::unique_ptr<Conversation>;

    // A conversation's block and its operations' memory are recycled per thread: with many
    // connections in flight, malloc and free would otherwise be a sixth of the server's own work.
    static void* operator new(std::size_t) {
        return detail::BlockPool<sizeof(Conversation), alignof(Conversation)>::allocate();
    }
    static void operator delete(void* block) noexcept {
        detail::BlockPool<sizeof(Conversation), alignof(Conversation)>::deallocate(block);
    }

    static void start(Session& session, const serve::GreetingTable& greetings, std::string_view host,
                      std::string_view status_page, Done done) {
        Owner self(new Conversation(session, host, status_page, std::move(done)));
        const std::string_view hello =
            greetings(session.listener().protocol, session.starttls_available(), session.tls_active());
        if (!write_now(self, hello, serve::Reply::Then::keep)) return;
        after_reply(std::move(self), serve::Reply::Then::keep);
    }

private:
    using Then = serve::Reply::Then;

    /// Longer lines end the session.
    static constexpr std::size_t longest_line = 4096;
    static constexpr std::size_t read_size = 512;

    template <class Handler>
    static auto pooled(Handler handler) {
        return asio::bind_allocator(PooledAllocator<void>(), std::move(handler));
    }

    Conversation(Session& session, std::string_view host, std::string_view status_page, Done done)
        : session_(session),
          greeter_(session.listener().protocol, session.starttls_available(), session.tls_active(), host, status_page),
          done_(std::move(done)) {}

    /// Sends `text` as far as the connection takes it now. True when all of it went: the caller goes
    /// on. Otherwise `self` has moved on: to sending the rest asynchronously (then doing what `then`
    /// says), or to the end of the conversation after a write error.
    static bool write_now(Owner& self, std::string_view text, Then then) {
        if (text.empty()) return true;
        std::error_code ec;
        const std::size_t n = self->session_.stream().write_some_now(asio::buffer(text.data(), text.size()), ec);
        if (n == text.size()) return true;
        if (ec && ec != asio::error::would_block) {
            finish(std::move(self), ec);
            return false;
        }
        send_rest(std::move(self), std::string(text.substr(n)), then);
        return false;
    }

    static void send_rest(Owner self, std::string rest, Then then) {
        self->output_ = std::move(rest);
        Conversation& c = *self;
        asio::async_write(c.session_.stream(), asio::buffer(c.output_),
                          pooled([self = std::move(self), then](std::error_code ec, std::size_t) mutable {
                              if (ec) return finish(std::move(self), ec);
                              self->output_ = std::string();
                              after_reply(std::move(self), then);
                          }));
    }

    static void after_reply(Owner self, Then then) {
        if (then == Then::close || self->session_.server_stopping()) return finish(std::move(self), {});
        if (then == Then::start_tls) {
            self->input_ = std::string();  // nothing sent before the handshake may count after it
            Conversation& c = *self;
            c.session_.async_starttls([self = std::move(self)](std::error_code ec) mutable {
                if (ec) return finish(std::move(self), ec);
                const std::string after = self->greeter_.on_tls_established();
                if (!write_now(self, after, Then::keep)) return;
                after_reply(std::move(self), Then::keep);
            });
            return;
        }
        answer_lines(std::move(self));
    }

    /// Answers every complete line received (a loop, so pipelined commands do not nest calls), then
    /// waits for more.
    static void answer_lines(Owner self) {
        for (;;) {
            const std::size_t end = self->input_.find('\n');
            if (end == std::string::npos) {
                if (self->input_.size() >= longest_line) return finish(std::move(self), {});
                return wait(std::move(self));
            }
            std::string_view line(self->input_.data(), end);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            const serve::Reply reply = self->greeter_.on_line(line);
            self->input_.erase(0, end + 1);
            if (self->input_.empty()) self->input_ = std::string();  // give the buffer back while idle
            if (!write_now(self, reply.text, reply.then)) return;
            if (reply.then != Then::keep || self->session_.server_stopping())
                return after_reply(std::move(self), reply.then);
        }
    }

    static void wait(Owner self) {
        Conversation& c = *self;
        c.session_.async_wait_readable(pooled([self = std::move(self)](std::error_code ec) mutable {
            if (ec) return finish(std::move(self), ec);
            read(std::move(self));
        }));
    }

    /// What arrived, read at once into a chunk on the stack; only bytes actually read take room in
    /// input_. When nothing can be read yet (a TLS record not complete), an asynchronous read waits.
    static void read(Owner self) {
        std::array<char, read_size> chunk;
        std::error_code ec;
        const std::size_t n = self->session_.stream().read_some_now(asio::buffer(chunk), ec);
        if (ec == asio::error::would_block) return read_async(std::move(self));
        if (ec) return finish(std::move(self), ec);
        self->input_.append(chunk.data(), n);
        answer_lines(std::move(self));
    }

    static void read_async(Owner self) {
        Conversation& c = *self;
        const std::size_t old_size = c.input_.size();
        // resize zero-fills the chunk, some nanoseconds against the microseconds of the read itself; a
        // buffer left uninitialised would be a second allocation, kept or made anew while idle.
        c.input_.resize(old_size + read_size);
        c.session_.stream().async_read_some(
            asio::buffer(c.input_.data() + old_size, read_size),
            pooled([self = std::move(self), old_size](std::error_code ec, std::size_t n) mutable {
                self->input_.resize(old_size + n);
                if (ec) return finish(std::move(self), ec);
                answer_lines(std::move(self));
            }));
    }

    /// A client that hangs up is the normal end of a conversation, not an error worth a log line.
    static void finish(Owner self, std::error_code ec) {
        if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
            ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated)
            ec = {};
        Done done = std::move(self->done_);
        self.reset();
        std::move(done)(ec);
    }

    Session& session_;
    serve::Greeter greeter_;
    Done done_;
    std::string output_;
    std::string input_;
};

struct Converse {
    std::shared_ptr<const std::string> host;
    std::shared_ptr<const std::string> status_page;
    std::shared_ptr<const serve::GreetingTable> greetings;
    template <class Done>
    void operator()(Session& session, Done done) const {
        Conversation<Done>::start(session, *greetings, *host, *status_page, std::move(done));
    }
};

std::string describe(const ResolvedListener& l) {
    std::string text = std::string(json_name(l.protocol));
    if (!l.use_tls || (l.protocol == Protocol::http && !l.tls_implicit)) text += ", plain";
    else if (l.tls_implicit) text += ", implicit TLS";
    else text += ", STARTTLS";
    if (l.uses_proxy_protocol()) text += ", PROXY from trusted networks";
    return text + ", at most " + std::to_string(l.max_connections) + " connections";
}

}  // namespace

int serve_main(const std::vector<std::string_view>& args) {
    std::optional<std::string_view> file;
    std::size_t threads = 1;
    long grace_seconds = 5;
    std::string host = "localhost";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        auto number = [&](long low, long high) -> std::optional<long> {
            if (i + 1 >= args.size()) return std::nullopt;
            const std::string v(args[++i]);
            if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
            const long n = std::stol(v);
            if (n < low || n > high) return std::nullopt;
            return n;
        };
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            std::fputs(embedded_configuration.data(), stdout);
            return Exit::ok;
        } else if (arg == "--threads") {
            auto n = number(1, 256);
            if (!n) return usage_error("serve", "--threads needs a number from 1 to 256", usage_line);
            threads = static_cast<std::size_t>(*n);
        } else if (arg == "--grace") {
            auto n = number(0, 3600);
            if (!n) return usage_error("serve", "--grace needs seconds from 0 to 3600", usage_line);
            grace_seconds = *n;
        } else if (arg == "--host") {
            if (i + 1 >= args.size()) return usage_error("serve", "--host needs a name", usage_line);
            host = std::string(args[++i]);
        } else if (arg.size() > 1 && arg.starts_with("-")) {
            return usage_error("serve", "unknown option " + std::string(arg), usage_line);
        } else if (file) {
            return usage_error("serve", "one FILE only", usage_line);
        } else {
            file = arg;
        }
    }

    Input input{"(embedded configuration)", std::string(embedded_configuration), Format::toml};
    if (file) {
        auto read = read_input(*file);
        if (!read) return Exit::usage;
        input = std::move(*read);
    }
    const Resolution config = load(input.text, input.format);
    print_diagnostics(stderr, input.name, config.diagnostics, false);
    if (!config.valid()) {
        print_summary(stderr, input.name, config.diagnostics);
        std::fputs("berth: the configuration is invalid: nothing is bound\n", stderr);
        return Exit::invalid;
    }

    std::string certificate_error;
    std::optional<serve::CertificateChoice> certificate;
    if (input.format == Format::toml) certificate = serve::certificate_from_toml(input.text, certificate_error);
    if (!certificate_error.empty()) {
        std::fprintf(stderr, "berth: %s\n", certificate_error.c_str());
        return Exit::invalid;
    }
    if (!certificate) certificate = serve::CertificateChoice{generate_self_signed_certificate({host}), "self-signed for " + host};

    ServePolicies policies;
    policies.tls = LibraryTls<>(certificate->certificate);
    // Converse never leaves its session's thread, so a context run by one thread can drop Asio's
    // per-socket locks (RunnerOptions::unsafe_io, docs/acceptor.md).
    RunnerOptions options{.threads = threads, .grace_period = std::chrono::seconds(grace_seconds), .unsafe_io = true};
    ServeServer server(config.listeners, std::move(options), policies);
    std::error_code ec;
    server.bind(ec);
    if (ec) {
        std::fprintf(stderr, "berth: cannot start:\n");
        for (const auto& failure : server.startup_failures()) std::fprintf(stderr, "  %s\n", failure.to_string().c_str());
        if (server.startup_failures().empty()) std::fprintf(stderr, "  %s\n", ec.message().c_str());
        return Exit::invalid;
    }

    std::string status_page = "berth " BERTH_VERSION_STRING "\n";
    for (const auto& endpoint : server.bound_endpoints()) {
        const ResolvedListener* l = config.find(endpoint.listener);
        const std::string line = endpoint.local.to_string() + "  " + endpoint.listener + " (" + (l ? describe(*l) : "") + ")";
        std::printf("berth: listening on %s\n", line.c_str());
        status_page += line + "\n";
    }
    std::printf("berth: TLS certificate: %s; %zu thread%s; Ctrl-C stops\n", certificate->description.c_str(), threads,
                threads == 1 ? "" : "s");
    std::fflush(stdout);

    // This thread serves too: with one I/O thread the process has no other thread (docs/performance.md).
    server.run_until_signal(
        Converse{std::make_shared<const std::string>(host), std::make_shared<const std::string>(status_page),
                 std::make_shared<const serve::GreetingTable>(host)},
        {SIGINT, SIGTERM}, std::chrono::seconds(grace_seconds), [grace_seconds](int signal) {
            std::printf("berth: %s: stopping (grace period %lds)\n", signal == SIGINT ? "interrupted" : "terminated",
                        grace_seconds);
            std::fflush(stdout);
        });
    std::printf("berth: stopped\n");
    return Exit::ok;
}

}  // namespace berth::cli

#else  // without berth::net there is no acceptor to serve with

#include <cstdio>

namespace berth::cli {
int serve_main(const std::vector<std::string_view>&) {
    std::fputs("berth serve: this berth was built without berth::net (Asio and a TLS library)\n", stderr);
    return Exit::usage;
}
}  // namespace berth::cli

#endif
