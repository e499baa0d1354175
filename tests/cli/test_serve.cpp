// `berth serve` end to end: started as a user starts it, talked to with real clients
// (openssl s_client for every STARTTLS protocol and implicit TLS), stopped with Ctrl-C.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "support/catch.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#ifndef BERTH_CLI_PATH
#error "BERTH_CLI_PATH must name the berth executable (the tests CMake defines it)"
#endif

namespace {

using Clock = std::chrono::steady_clock;

/// `berth serve FILE` as a child process, its standard output read line by line with deadlines.
class ServeProcess {
public:
    explicit ServeProcess(const std::string& config_path) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::close(out[0]);
            ::close(out[1]);
            ::execl(BERTH_CLI_PATH, BERTH_CLI_PATH, "serve", config_path.c_str(), "--grace", "2", nullptr);
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

    /// The next line of standard output, or nothing when none arrives before the deadline.
    std::optional<std::string> read_line(std::chrono::milliseconds within) {
        const auto deadline = Clock::now() + within;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char chunk[512];
            const auto n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Sends the signal and waits (bounded) for the exit status; -1 if it did not exit in time.
    int stop(int signal, std::chrono::seconds within) {
        ::kill(pid_, signal);
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

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
};

std::string run(const std::string& command) {
    std::string output;
    std::FILE* pipe = ::popen(("timeout 20 " + command + " 2>&1").c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
    ::pclose(pipe);
    return output;
}

/// What a client reads in the first `within` after connecting, without sending anything.
std::string first_bytes(std::uint16_t port, std::chrono::milliseconds within) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(within.count())) > 0) {
            char buffer[256];
            const auto n = ::read(fd, buffer, sizeof buffer);
            if (n > 0) got.assign(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return got;
}

/// What a client that sends `request` at once then reads receives, until the server closes (`closed`) or
/// `within` passes.
struct Exchange {
    std::string replies;
    bool closed = false;
};
Exchange exchange(std::uint16_t port, std::string_view request, std::chrono::milliseconds within) {
    Exchange result;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
        ::close(fd);
        return result;
    }
    const auto deadline = Clock::now() + within;
    while (!result.closed && Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buffer[1024];
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) result.closed = true;
        else result.replies.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return result;
}

}  // namespace

TEST_CASE("berth serve talks to real clients on every protocol and stops on Ctrl-C", "[cli][serve]") {
    const auto dir = std::filesystem::temp_directory_path() / ("berth-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto config = (dir / "serve.toml").string();
    std::ofstream(config) << R"(
[server.listener.smtp]
bind = "127.0.0.1:0"
protocol = "smtp"
[server.listener.lmtp]
bind = "127.0.0.1:0"
protocol = "lmtp"
[server.listener.imap]
bind = "127.0.0.1:0"
protocol = "imap"
[server.listener.pop3]
bind = "127.0.0.1:0"
protocol = "pop3"
[server.listener.sieve]
bind = "127.0.0.1:0"
protocol = "managesieve"
[server.listener.http]
bind = "127.0.0.1:0"
protocol = "http"
[server.listener.smtps]
bind = "127.0.0.1:0"
protocol = "smtp"
tls.implicit = true
[server.listener.plain]
bind = "127.0.0.1:0"
protocol = "smtp"
tls.enable = false
)";
    ServeProcess serve(config);
    std::map<std::string, std::uint16_t> ports;
    for (;;) {
        auto line = serve.read_line(std::chrono::seconds(30));
        REQUIRE(line);
        if (line->find("Ctrl-C stops") != std::string::npos) break;
        // berth: listening on 127.0.0.1:PORT  NAME (...)
        const auto colon = line->find("127.0.0.1:");
        REQUIRE(colon != std::string::npos);
        const auto space = line->find("  ", colon);
        const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 10, space - colon - 10)));
        const auto name = line->substr(space + 2, line->find(' ', space + 2) - space - 2);
        ports[name] = port;
    }
    REQUIRE(ports.size() == 8);
    for (const auto& [name, port] : ports) CHECK(port != 0);  // port 0 reports the real port

    const auto s_client = [&](const std::string& name, const std::string& starttls, const std::string& input) {
        return run("sh -c \"printf '" + input + "' | openssl s_client -connect 127.0.0.1:" + std::to_string(ports[name]) +
                   (starttls.empty() ? std::string{} : " -starttls " + starttls) + " -servername localhost -ign_eof\"");
    };
    SECTION("STARTTLS for each protocol that has it, then the protocol's goodbye") {
        struct Row {
            const char* listener;
            const char* starttls;
            const char* input;
            const char* goodbye;
        };
        for (const Row row : {Row{"smtp", "smtp", "EHLO client\\r\\nQUIT\\r\\n", "221 2.0.0 Bye"},
                              Row{"lmtp", "lmtp", "LHLO client\\r\\nQUIT\\r\\n", "221 2.0.0 Bye"},
                              Row{"imap", "imap", "a1 CAPABILITY\\r\\na2 LOGOUT\\r\\n", "a2 OK LOGOUT completed"},
                              Row{"pop3", "pop3", "CAPA\\r\\nQUIT\\r\\n", "+OK Bye"},
                              Row{"sieve", "sieve", "LOGOUT\\r\\n", "OK \"Logout complete\""}}) {
            INFO(row.listener);
            const auto out = s_client(row.listener, row.starttls, row.input);
            INFO(out);
            CHECK(out.find("TLSv1.3") != std::string::npos);
            CHECK(out.find(row.goodbye) != std::string::npos);
        }
        // After STARTTLS, SMTP no longer offers it.
        const auto smtp = s_client("smtp", "smtp", "EHLO client\\r\\nQUIT\\r\\n");
        CHECK(smtp.find("250-STARTTLS") == std::string::npos);
    }
    SECTION("implicit TLS handshakes first, then greets") {
        const auto out = s_client("smtps", "", "QUIT\\r\\n");
        INFO(out);
        CHECK(out.find("TLSv1.3") != std::string::npos);
        CHECK(out.find("220 localhost ESMTP berth") != std::string::npos);
        CHECK(first_bytes(ports["smtps"], std::chrono::milliseconds(300)).empty());  // no plain text first
    }
    SECTION("a plain listener never offers STARTTLS") {
        const auto greeting = first_bytes(ports["plain"], std::chrono::seconds(5));
        CHECK(greeting.starts_with("220 "));
        const auto out = s_client("plain", "smtp", "QUIT\\r\\n");
        INFO(out);
        // openssl s_client says so and tries anyway; no handshake completes ("Protocol: TLSv1.3" is printed by
        // OpenSSL 3.5 even then, so the cipher line is what tells).
        CHECK(out.find("Didn't find STARTTLS in server response") != std::string::npos);
        CHECK(out.find("Cipher is (NONE)") != std::string::npos);
    }
    SECTION("HTTP answers the status page listing the listeners") {
        const auto out = run("sh -c \"printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | nc -q 2 127.0.0.1 " +
                             std::to_string(ports["http"]) + " 2>/dev/null || true\"");
        if (out.find("HTTP/1.1") == std::string::npos) {
            // No netcat here: read it with a raw socket instead.
            const std::string page =
                exchange(ports["http"], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(5)).replies;
            CHECK(page.starts_with("HTTP/1.1 200 OK"));
            CHECK(page.find("smtps (smtp, implicit TLS") != std::string::npos);
        } else {
            CHECK(out.find("smtps (smtp, implicit TLS") != std::string::npos);
        }
    }
    SECTION("commands sent together in plaintext are answered in order, then the session closes") {
        const auto [replies, closed] =
            exchange(ports["plain"], "EHLO first\r\nEHLO second\r\nQUIT\r\n", std::chrono::seconds(5));
        CHECK(closed);
        CHECK(replies.starts_with("220 "));
        const auto first = replies.find("250 ");
        REQUIRE(first != std::string::npos);
        const auto second = replies.find("250 ", first + 1);
        REQUIRE(second != std::string::npos);
        CHECK(replies.find("221 2.0.0 Bye", second) != std::string::npos);
    }
    CHECK(serve.stop(SIGINT, std::chrono::seconds(15)) == 0);
    std::filesystem::remove_all(dir);
}
