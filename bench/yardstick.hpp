#pragma once
// What the two yardstick servers (epoll_server, tls_epoll_server) share: their command line, the loopback
// listening socket, SIGTERM through a signalfd, and draining the accept queue with the same error handling
// berth's acceptor has (skip what one connection caused, pause on resource exhaustion, never spin).
// Linux only. Each yardstick is a baseline to compare berth with, so this stays minimal on purpose.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

namespace yardstick {

/// What every connection is sent first; the load tool reads up to the line feed.
inline constexpr std::string_view greeting = "220 yardstick\r\n";

struct Options {
    std::uint16_t port = 0;  ///< 0: the kernel picks a free port, printed on the first line
    int backlog = 4096;
};

/// `--port N`, `--backlog N`, `--help`. Empty after printing the reason (or the help) to stderr.
inline std::optional<Options> parse_options(int argc, char** argv, std::string_view description) {
    Options options;
    auto number = [](std::string_view text, long min, long max) -> std::optional<long> {
        long value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
        return value;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--port" && has_value) {
            const auto port = number(argv[++i], 0, 65535);
            if (!port) {
                std::fprintf(stderr, "%s: --port takes 0..65535\n", argv[0]);
                return std::nullopt;
            }
            options.port = static_cast<std::uint16_t>(*port);
        } else if (arg == "--backlog" && has_value) {
            const auto backlog = number(argv[++i], 1, 65535);
            if (!backlog) {
                std::fprintf(stderr, "%s: --backlog takes 1..65535\n", argv[0]);
                return std::nullopt;
            }
            options.backlog = static_cast<int>(*backlog);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--port N] [--backlog N]\n%.*s\n"
                         "Listens on 127.0.0.1 only, prints 'listening on 127.0.0.1:PORT', exits on SIGTERM or SIGINT.\n",
                         argv[0], static_cast<int>(description.size()), description.data());
            return std::nullopt;
        }
    }
    return options;
}

/// Holding thousands of idle connections needs more descriptors than the usual soft limit of 1024.
inline void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/// A non-blocking listening socket on 127.0.0.1; `bound_port` is the port it got. -1 after printing why.
inline int listen_on_loopback(const Options& options, std::uint16_t& bound_port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::perror("socket");
        return -1;
    }
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, options.backlog) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        std::perror("bind/listen 127.0.0.1");
        close(fd);
        return -1;
    }
    bound_port = ntohs(address.sin_port);
    return fd;
}

/// SIGTERM and SIGINT become readable events on the returned descriptor (so the loop ends cleanly between
/// two events); SIGPIPE is ignored, because a peer that resets must cost an error code, not the process.
inline int termination_signals() {
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return -1;
    return signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
}

inline bool watch(int epoll, int fd, std::uint32_t events, epoll_data_t data) {
    epoll_event event{};
    event.events = events;
    event.data = data;
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

/// Accepting pauses for a while after EMFILE and the like (the listener is taken out of the epoll set, so a
/// level-triggered listener cannot spin), and resumes when the pause is over.
class AcceptPause {
public:
    /// `data` is what the listener was registered with.
    AcceptPause(int epoll, int listener, epoll_data_t data) : epoll_(epoll), listener_(listener), data_(data) {}

    void start() {
        epoll_event event{};
        event.data = data_;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, listener_, &event);  // no events until resumed
        resume_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
        paused_ = true;
    }

    /// The epoll_wait timeout: -1 (wait for events) unless a pause is running.
    [[nodiscard]] int wait_milliseconds() const {
        if (!paused_) return -1;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(resume_at_ - std::chrono::steady_clock::now());
        return left.count() > 0 ? static_cast<int>(left.count()) : 0;
    }

    void resume_if_due() {
        if (!paused_ || std::chrono::steady_clock::now() < resume_at_) return;
        epoll_event event{};
        event.events = EPOLLIN;
        event.data = data_;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, listener_, &event);
        paused_ = false;
    }

private:
    int epoll_;
    int listener_;
    epoll_data_t data_;
    bool paused_ = false;
    std::chrono::steady_clock::time_point resume_at_{};
};

/// Accepts until the queue is empty, giving each new non-blocking socket (with TCP_NODELAY, as berth's
/// default `socket.nodelay = true` sets it) to `on_connection`. False when accepting must pause.
template <class OnConnection>
bool accept_all(int listener, OnConnection&& on_connection) {
    for (;;) {
        const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            const int on = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            on_connection(fd);
            continue;
        }
        switch (errno) {
        case EAGAIN: return true;
        case EINTR:
        case ECONNABORTED:
        case EPROTO: continue;  // this connection's trouble, not the listener's
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM: return false;
        default: std::perror("accept4"); return false;
        }
    }
}

}  // namespace yardstick
