// `berth probe`: first its protocol knowledge and PROXY headers without sockets, checked against
// berth's own greeter, busy lines and PROXY parser; then end to end: a `berth serve` that runs the
// configuration it claims passes every check (every protocol, STARTTLS, implicit TLS with a disabled
// version, plain, the connection limit, PROXY from a trusted source), and configurations the server
// does not run fail with the FAIL line that says why. A small raw-socket SMTP server with the busy and
// backpressure overload policies shows --overload.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/catch.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "../../tools/berth/greeter.hpp"
#include "../../tools/berth/probe_protocol.hpp"
#include "../../tools/berth/probe_proxy_header.hpp"
#include "berth/model/protocol.hpp"
#include "berth/net/overload.hpp"
#include "berth/net/proxy_protocol.hpp"

#ifndef BERTH_CLI_PATH
#error "BERTH_CLI_PATH must name the berth executable (the tests CMake defines it)"
#endif

namespace {

using Clock = std::chrono::steady_clock;

/// A fresh folder for this process's files, removed by the destructor.
struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("berth-probe-" + std::to_string(::getpid()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const auto file = path / name;
        std::ofstream(file) << text;
        return file.string();
    }
};

/// `count` distinct free loopback ports: each bound to port 0 at once, read back, then released.
std::vector<std::uint16_t> free_ports(std::size_t count) {
    std::vector<int> sockets;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t size = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0);
        sockets.push_back(fd);
        ports.push_back(ntohs(a.sin_port));
    }
    for (const int fd : sockets) ::close(fd);
    return ports;
}

/// `berth serve FILE` as a child process; standard output read with deadlines, standard error to a file.
class ServeProcess {
public:
    ServeProcess(const std::string& config_path, const std::string& log_path) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (log >= 0) ::dup2(log, STDERR_FILENO);
            ::close(out[0]);
            ::close(out[1]);
            ::execl(BERTH_CLI_PATH, BERTH_CLI_PATH, "serve", config_path.c_str(), "--grace", "1", nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        out_ = out[0];
    }
    ~ServeProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) ::close(out_);
    }

    /// Waits (bounded) for the line that says the server is ready.
    bool wait_ready(std::chrono::seconds within) {
        const auto deadline = Clock::now() + within;
        while (Clock::now() < deadline) {
            if (buffer_.find("Ctrl-C stops") != std::string::npos) return true;
            pollfd p{out_, POLLIN, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 0))) <= 0) continue;
            char chunk[512];
            const auto n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
        return false;
    }

    int stop(std::chrono::seconds within) {
        ::kill(pid_, SIGINT);
        const auto deadline = Clock::now() + within;
        while (Clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

    [[nodiscard]] const std::string& output() const noexcept { return buffer_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
};

struct Run {
    int status = -1;
    std::string output;
};

/// `berth probe ARGS`, bounded by `timeout` so a hang fails the test instead of stalling it.
Run probe(const std::string& args) {
    const std::string command = "timeout 50 " + std::string(BERTH_CLI_PATH) + " probe " + args + " 2>&1";
    Run r;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
    const int raw = ::pclose(pipe);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return r;
}

std::string last_line(const std::string& text) {
    std::string trimmed = text;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    return trimmed.substr(trimmed.rfind('\n') == std::string::npos ? 0 : trimmed.rfind('\n') + 1);
}

bool has_line_starting(const std::string& text, const std::string& prefix) {
    return text.starts_with(prefix) || text.find("\n" + prefix) != std::string::npos;
}

std::string listener(const std::string& name, std::uint16_t port, const std::string& protocol,
                     const std::string& extra = {}) {
    return "[server.listener." + name + "]\nbind = \"127.0.0.1:" + std::to_string(port) + "\"\nprotocol = \"" +
           protocol + "\"\n" + extra + "\n";
}

/// A plain SMTP server (no TLS) with a connection limit and an overload policy that `berth serve` does
/// not offer: `busy` answers 421 and closes; `backpressure` stops accepting while full. Raw sockets and
/// poll() on one thread, every wait bounded, stopped by the destructor.
class OverloadSmtpServer {
public:
    enum class Policy { busy, backpressure };

    OverloadSmtpServer(Policy policy, std::size_t limit) : policy_(policy), limit_(limit) {
        listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        REQUIRE(listen_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const int one = 1;
        ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(listen_, 16) == 0);
        socklen_t size = sizeof a;
        REQUIRE(::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &size) == 0);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~OverloadSmtpServer() {
        stop_ = true;
        thread_.join();
        for (const auto& [fd, input] : clients_) ::close(fd);
        ::close(listen_);
    }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    Policy policy_;
    std::size_t limit_;
    int listen_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::map<int, std::string> clients_;  // socket -> unread input
    std::thread thread_;

    static void say(int fd, std::string_view text) { (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }

    void run() {
        while (!stop_) {
            std::vector<pollfd> fds;
            const bool full = clients_.size() >= limit_;
            if (!(full && policy_ == Policy::backpressure)) fds.push_back({listen_, POLLIN, 0});
            for (const auto& [fd, input] : clients_) fds.push_back({fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
            for (const auto& p : fds) {
                if (p.revents == 0) continue;
                if (p.fd == listen_)
                    accept_one();
                else
                    serve_input(p.fd);
            }
        }
    }

    void accept_one() {
        const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK);
        if (fd < 0) return;
        if (clients_.size() >= limit_) {  // only the busy policy gets here while full
            say(fd, "421 4.3.2 Too many connections\r\n");
            ::close(fd);
            return;
        }
        say(fd, "220 overload.test ESMTP\r\n");
        clients_[fd];
    }

    void serve_input(int fd) {
        char chunk[1024];
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            ::close(fd);
            clients_.erase(fd);
            return;
        }
        std::string& input = clients_[fd];
        input.append(chunk, static_cast<std::size_t>(n));
        for (auto nl = input.find('\n'); nl != std::string::npos; nl = input.find('\n')) {
            const std::string line = input.substr(0, nl);
            input.erase(0, nl + 1);
            say(fd, line.rfind("EHLO", 0) == 0 ? "250 overload.test\r\n" : "502 5.5.2 Not implemented\r\n");
        }
    }
};

}  // namespace

TEST_CASE("berth probe reads the greetings, capabilities and STARTTLS replies of berth serve's greeter",
          "[cli][probe]") {
    using namespace berth::probe;
    for (const berth::Protocol protocol : berth::all_protocols()) {
        if (protocol == berth::Protocol::http) continue;
        for (const bool allowed : {true, false}) {
            INFO(berth::json_name(protocol) << (allowed ? " with STARTTLS" : " without STARTTLS"));
            berth::serve::Greeter greeter(protocol, allowed, false, "localhost");
            const std::string greeting = greeter.greeting();
            CHECK(greeting_complete(protocol, greeting));
            CHECK_FALSE(greeting_complete(protocol, greeting.substr(0, greeting.size() - 2)));  // no line end yet
            CHECK(classify_first_bytes(protocol, greeting) == FirstBytes::greeting);
            std::string reply = greeting;  // ManageSieve lists its capabilities in the greeting
            if (const auto command = capability_command(protocol); !command.empty())
                reply = greeter.on_line(command.substr(0, command.size() - 2)).text;
            CHECK(capability_reply_complete(protocol, reply));
            CHECK(advertises_starttls(protocol, reply) == allowed);
            const auto upgrade =
                greeter.on_line(starttls_command(protocol).substr(0, starttls_command(protocol).size() - 2));
            CHECK(starttls_reply_complete(protocol, upgrade.text));
            CHECK(starttls_accepted(protocol, upgrade.text) == allowed);
        }
    }
    // HTTP: the probe's request is what the greeter answers with a status page.
    berth::serve::Greeter http(berth::Protocol::http, false, false, "localhost", "page\n");
    std::string answer;
    for (const auto line : complete_lines(opening_request(berth::Protocol::http))) answer += http.on_line(line).text;
    CHECK(classify_first_bytes(berth::Protocol::http, answer) == FirstBytes::greeting);
    CHECK(answer.starts_with("HTTP/1.1 200 OK"));
}

TEST_CASE("berth probe tells greetings, busy lines, TLS records and STARTTLS apart", "[cli][probe]") {
    using namespace berth::probe;
    using berth::Protocol;
    for (const Protocol protocol : berth::all_protocols()) {
        INFO(berth::json_name(protocol));
        // berth's own busy lines (SPEC §5) are busy, for every protocol.
        CHECK(classify_first_bytes(protocol, berth::busy_reply_text(protocol)) == FirstBytes::busy);
        CHECK(greeting_complete(protocol, berth::busy_reply_text(protocol)));
        // A TLS handshake or alert record is never a greeting.
        CHECK(classify_first_bytes(protocol, std::string("\x16\x03\x01\x00\x05", 5)) == FirstBytes::tls_record);
        CHECK(classify_first_bytes(protocol, std::string("\x15\x03\x03\x00\x02\x02\x46", 7)) == FirstBytes::tls_record);
        CHECK(classify_first_bytes(protocol, "") == FirstBytes::other);
    }
    CHECK(classify_first_bytes(Protocol::smtp, "554 5.3.2 No service\r\n") == FirstBytes::other);
    CHECK(classify_first_bytes(Protocol::http, "HTTP/1.1 404 Not Found\r\n") == FirstBytes::greeting);
    CHECK(classify_first_bytes(Protocol::http, "SSH-2.0-x\r\n") == FirstBytes::other);
    // A multi-line SMTP greeting is complete at its last line only.
    CHECK_FALSE(greeting_complete(Protocol::smtp, "220-mx.example\r\n"));
    CHECK(greeting_complete(Protocol::smtp, "220-mx.example\r\n220 ready\r\n"));
    CHECK(complete_lines("a\r\nb\nc") == std::vector<std::string_view>{"a", "b"});
    // STARTTLS is an extension's first word, a capability atom, a CAPA line: never a substring.
    CHECK(advertises_starttls(Protocol::smtp, "250-mx\r\n250-starttls\r\n250 8BITMIME\r\n"));
    CHECK_FALSE(advertises_starttls(Protocol::smtp, "250-mx STARTTLS\r\n250-STARTTLSX\r\n250 8BITMIME\r\n"));
    CHECK(advertises_starttls(Protocol::imap, "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n"));
    CHECK_FALSE(advertises_starttls(Protocol::imap,
                                    "* OK [CAPABILITY STARTTLS]\r\n* CAPABILITY IMAP4rev1 X-STARTTLS\r\na1 OK\r\n"));
    CHECK(advertises_starttls(Protocol::pop3, "+OK\r\nSTLS\r\n.\r\n"));
    CHECK_FALSE(advertises_starttls(Protocol::pop3, "+OK\r\nUSER\r\n.\r\n"));
    CHECK(capability_reply_complete(Protocol::pop3, "-ERR unknown command\r\n"));
    CHECK_FALSE(advertises_starttls(Protocol::manage_sieve, "\"IMPLEMENTATION\" \"STARTTLS\"\r\nOK\r\n"));
}

TEST_CASE("berth probe's PROXY headers are what berth's parser reads", "[cli][probe]") {
    using namespace berth::probe;
    for (const char* text : {"127.0.0.1:2525", "[::1]:993"}) {
        const auto target = berth::SocketAddr::parse(text);
        REQUIRE(target);
        for (const auto version : {ProxyHeaderToSend::v1, ProxyHeaderToSend::v2}) {
            INFO(text << (version == ProxyHeaderToSend::v1 ? " v1" : " v2"));
            const std::string header = proxy_header(version, *target);
            const auto parsed = berth::parse_proxy_header(header + "EHLO x\r\n");
            REQUIRE(parsed.complete());
            CHECK(parsed.consumed == header.size());  // the bytes after it are left to the protocol
            CHECK(parsed.header.version ==
                  (version == ProxyHeaderToSend::v1 ? berth::ProxyVersion::v1 : berth::ProxyVersion::v2));
            CHECK(parsed.header.command == berth::ProxyCommand::proxy);
            CHECK(parsed.header.source == proxy_claimed_source(target->address().is_v4()));
            CHECK(parsed.header.destination == *target);
        }
    }
    CHECK(proxy_header(ProxyHeaderToSend::none, berth::SocketAddr(berth::IpAddress::v4({127, 0, 0, 1}), 25)).empty());
}

TEST_CASE("berth probe passes a server that runs the configuration, and fails one that does not", "[cli][probe]") {
    const TempDir dir;
    const auto ports = free_ports(11);
    std::map<std::string, std::uint16_t> port;
    const char* names[] = {"smtp", "lmtp", "imap", "pop3", "sieve", "http", "smtps", "plain", "limited", "proxied"};
    for (std::size_t i = 0; i < std::size(names); ++i) port[names[i]] = ports[i];

    const std::string served =
        listener("smtp", port["smtp"], "smtp", "tls.timeout = \"1s\"") + listener("lmtp", port["lmtp"], "lmtp") +
        listener("imap", port["imap"], "imap") + listener("pop3", port["pop3"], "pop3") +
        listener("sieve", port["sieve"], "managesieve") + listener("http", port["http"], "http") +
        listener("smtps", port["smtps"], "smtp",
                 "tls.implicit = true\ntls.disable-protocols = [\"TLSv1.2\"]\ntls.timeout = \"1s\"") +
        listener("plain", port["plain"], "smtp", "tls.enable = false") +
        listener("limited", port["limited"], "smtp", "max-connections = 3") +
        listener("proxied", port["proxied"], "smtp", "proxy.trusted-networks = [\"127.0.0.2\"]\ntls.timeout = \"1s\"");
    const auto config = dir.write("served.toml", served);
    const auto log = (dir.path / "serve.log").string();
    ServeProcess serve(config, log);
    REQUIRE(serve.wait_ready(std::chrono::seconds(30)));
    INFO(serve.output());

    const auto start = Clock::now();
    {
        const Run run = probe("--config " + config + " --host 127.0.0.1 --limits --proxy --deadlines");
        INFO(run.output);
        CHECK(run.status == 0);
        CHECK(std::regex_match(last_line(run.output), std::regex("[1-9][0-9]* passed, 0 failed")));
        CHECK(run.output.find("FAIL") == std::string::npos);
        // Every check of the brief shows up as a PASS line.
        for (const auto& [name, p] : port)
            CHECK(has_line_starting(run.output,
                                    "PASS " + name + " 127.0.0.1:" + std::to_string(p) + ": accepts a TCP connection"));
        const std::string smtps = "PASS smtps 127.0.0.1:" + std::to_string(port["smtps"]) + ": ";
        CHECK(has_line_starting(run.output, smtps + "implicit TLS handshake (TLSv1.3"));
        CHECK(run.output.find("certificate subject /CN=localhost, not verified") != std::string::npos);
        CHECK(has_line_starting(run.output, smtps + "TLSv1.2 (disabled): a client limited to it is refused"));
        CHECK(has_line_starting(run.output, smtps + "TLSv1.3 (enabled): a client limited to it connects"));
        CHECK(has_line_starting(run.output, smtps + "STARTTLS not advertised inside implicit TLS (EHLO)"));
        for (const auto& [name, source] : std::map<std::string, std::string>{
                 {"smtp", "EHLO"}, {"lmtp", "LHLO"}, {"imap", "CAPABILITY"}, {"pop3", "CAPA"}, {"sieve", "greeting"}}) {
            const std::string prefix = "PASS " + name + " 127.0.0.1:" + std::to_string(port[name]) + ": ";
            CHECK(has_line_starting(run.output, prefix + "plaintext greeting first ("));
            CHECK(has_line_starting(run.output, prefix + "STARTTLS advertised (" + source + ")"));
            CHECK(has_line_starting(run.output, prefix + "STARTTLS upgrade (TLSv1.3"));
        }
        CHECK(has_line_starting(
            run.output, "PASS plain 127.0.0.1:" + std::to_string(port["plain"]) + ": STARTTLS not advertised (EHLO)"));
        CHECK(has_line_starting(run.output, "PASS http 127.0.0.1:" + std::to_string(port["http"]) +
                                                ": plaintext HTTP response (HTTP/1.1 200 OK)"));
        const std::string limited = "PASS limited 127.0.0.1:" + std::to_string(port["limited"]) + ": ";
        CHECK(has_line_starting(run.output,
                                limited + "maxConnections 3: the 4th connection is closed without a greeting"));
        CHECK(has_line_starting(run.output, limited + "after releasing them, a new connection is served"));
        CHECK(has_line_starting(run.output,
                                limited + "a burst of 6 connections at once: at most 3 served (3 served, 3 not)"));
        // tlsTimeout (1s here) closes a client that owes a ClientHello or a PROXY header.
        CHECK(has_line_starting(
            run.output, smtps + "implicit TLS: a client that never sends its ClientHello is closed at tlsTimeout 1s"));
        CHECK(has_line_starting(run.output,
                                "PASS smtp 127.0.0.1:" + std::to_string(port["smtp"]) +
                                    ": STARTTLS: a client that never starts the handshake is closed at tlsTimeout 1s"));
        const std::string proxied = "PASS proxied 127.0.0.1:" + std::to_string(port["proxied"]) + ": ";
        CHECK(has_line_starting(run.output, proxied + "PROXY v1 header from trusted 127.0.0.2 is read"));
        CHECK(has_line_starting(run.output, proxied + "PROXY v2 header from trusted 127.0.0.2 is read"));
        CHECK(has_line_starting(run.output, proxied + "no PROXY header from trusted 127.0.0.2: closed"));
        CHECK(has_line_starting(run.output,
                                proxied + "from untrusted 127.0.0.1, no PROXY header is expected: greeted at once"));
        CHECK(has_line_starting(
            run.output,
            proxied + "PROXY: a trusted client (127.0.0.2) that never sends its header is closed at tlsTimeout 1s"));
    }
    {
        // The same server, probed with configurations it does not run; --port-map moves a claimed port 25
        // and 1465 onto the real ones.
        const std::string claimed =
            "[server.listener.smtp]\nbind = \"127.0.0.1:25\"\nprotocol = \"smtp\"\ntls.implicit = true\n" +
            listener("limited", port["limited"], "smtp", "max-connections = 2") +
            "[server.listener.smtps]\nbind = \"127.0.0.1:1465\"\nprotocol = \"smtp\"\n" +
            listener("plain", port["plain"], "smtp");
        const auto wrong = dir.write("wrong.toml", claimed);
        const Run run = probe("--config " + wrong + " --host 127.0.0.1 --port-map 25=" + std::to_string(port["smtp"]) +
                              " --port-map 1465=" + std::to_string(port["smtps"]) + " --limits --timeout 2");
        INFO(run.output);
        CHECK(run.status == 1);
        CHECK(std::regex_match(last_line(run.output), std::regex("[0-9]+ passed, 5 failed")));
        // Claims implicit TLS where the server runs STARTTLS: the handshake fails, and the probe says why.
        CHECK(has_line_starting(run.output, "FAIL smtp 127.0.0.1:25: implicit TLS handshake: "));
        CHECK(run.output.find("the server sent plaintext first: '220 localhost ESMTP berth'") != std::string::npos);
        // Claims max-connections 2 where the server allows 3: the 3rd connection is served.
        CHECK(has_line_starting(run.output,
                                "FAIL limited 127.0.0.1:" + std::to_string(port["limited"]) +
                                    ": maxConnections 2: the 3rd connection is closed without a greeting: "
                                    "it was served (220 localhost ESMTP berth): the server allows more than 2"));
        CHECK(
            has_line_starting(run.output, "FAIL limited 127.0.0.1:" + std::to_string(port["limited"]) +
                                              ": a burst of 4 connections at once: at most 2 served: 3 served, 1 not"));
        // Claims STARTTLS where the server runs implicit TLS: no plaintext greeting, TLS answers instead.
        // (Its tls.timeout of 1s closes the silent client before the probe's 2s step.)
        CHECK(has_line_starting(run.output,
                                "FAIL smtps 127.0.0.1:1465: plaintext greeting first: closed without a greeting, "
                                "and a TLS handshake completed: the server speaks TLS first"));
        // Claims STARTTLS where the server runs plain: STARTTLS is missing from EHLO.
        CHECK(has_line_starting(run.output, "FAIL plain 127.0.0.1:" + std::to_string(port["plain"]) +
                                                ": STARTTLS advertised (EHLO): not in the reply"));
    }
    CHECK(Clock::now() - start < std::chrono::seconds(40));
    CHECK(serve.stop(std::chrono::seconds(15)) == 0);
}

TEST_CASE("berth probe --overload tells the close, busy and backpressure policies apart", "[cli][probe]") {
    const TempDir dir;
    const auto config_for = [&](std::uint16_t port) {
        return dir.write("overload-" + std::to_string(port) + ".toml",
                         listener("mx", port, "smtp", "tls.enable = false\nmax-connections = 2"));
    };
    {
        const OverloadSmtpServer server(OverloadSmtpServer::Policy::busy, 2);
        const auto config = config_for(server.port());
        const std::string mx = "mx 127.0.0.1:" + std::to_string(server.port()) + ": ";
        const Run busy = probe("--config " + config + " --host 127.0.0.1 --limits --overload busy --timeout 2");
        INFO(busy.output);
        CHECK(busy.status == 0);
        CHECK(has_line_starting(busy.output, "PASS " + mx +
                                                 "maxConnections 2: the 3rd connection gets the busy line and "
                                                 "is closed ('421 4.3.2 Too many connections')"));
        // Expecting the default close policy, the probe reports the busy policy it saw, and fails.
        const Run close = probe("--config " + config + " --host 127.0.0.1 --limits --timeout 2");
        INFO(close.output);
        CHECK(close.status == 1);
        CHECK(has_line_starting(close.output, "FAIL " + mx +
                                                  "maxConnections 2: the 3rd connection is closed without a "
                                                  "greeting: it got a busy line (the busy policy"));
    }
    {
        const OverloadSmtpServer server(OverloadSmtpServer::Policy::backpressure, 2);
        const auto config = config_for(server.port());
        const std::string mx = "mx 127.0.0.1:" + std::to_string(server.port()) + ": ";
        const Run waits =
            probe("--config " + config + " --host 127.0.0.1 --limits --overload backpressure --timeout 2");
        INFO(waits.output);
        CHECK(waits.status == 0);
        CHECK(has_line_starting(waits.output, "PASS " + mx +
                                                  "maxConnections 2: the 3rd connection waits until a held one "
                                                  "closes ('220 overload.test ESMTP')"));
        const Run close = probe("--config " + config + " --host 127.0.0.1 --limits --timeout 2");
        INFO(close.output);
        CHECK(close.status == 1);
        CHECK(close.output.find("it got nothing and stayed open (backpressure") != std::string::npos);
    }
}

TEST_CASE("berth probe refuses bad usage with exit status 2", "[cli][probe]") {
    const TempDir dir;
    const auto valid = dir.write("valid.toml", listener("mx", 2525, "smtp"));
    const auto invalid = dir.write("invalid.toml", "[server.listener.mx]\nbind = \"127.0.0.1:2525\"\n");

    const Run help = probe("--help");
    CHECK(help.status == 0);
    CHECK(help.output.find("usage: berth probe --config FILE --host ADDR") != std::string::npos);

    const Run remote = probe("--config " + valid + " --host 192.0.2.1");
    CHECK(remote.status == 2);
    CHECK(remote.output.find("--host must be a loopback address") != std::string::npos);

    const Run no_host = probe("--config " + valid);
    CHECK(no_host.status == 2);

    const Run bad_map = probe("--config " + valid + " --host 127.0.0.1 --port-map 25");
    CHECK(bad_map.status == 2);

    const Run bad_timeout = probe("--config " + valid + " --host ::1 --timeout 0");
    CHECK(bad_timeout.status == 2);

    const Run broken = probe("--config " + invalid + " --host 127.0.0.1");
    INFO(broken.output);
    CHECK(broken.status == 2);
    CHECK(broken.output.find("server.listener.mx.protocol") != std::string::npos);  // the diagnostic is printed
    CHECK(broken.output.find("passed,") == std::string::npos);                      // and nothing is probed
}
