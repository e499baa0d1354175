// The plain yardstick: the least a server can do per connection on Linux. One thread, one epoll set: accept,
// write "220 yardstick\r\n", then wait until the client closes (reading and dropping anything it sends) and
// close. An idle connection holds nothing in user space but its descriptor. berth's CPU per plain connection
// is measured against this loop (docs/performance.md).

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "yardstick.hpp"

namespace {

/// Reads and drops whatever arrived; true when the client has closed (or the connection failed).
bool drain_until_closed(int fd) {
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t n = read(fd, buffer.data(), buffer.size());
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return !(n < 0 && errno == EAGAIN);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = yardstick::parse_options(
        argc, argv, "A plain epoll accept loop that greets each connection and closes when the client closes.");
    if (!options) return 2;
    yardstick::raise_descriptor_limit();

    std::uint16_t port = 0;
    const int listener = yardstick::listen_on_loopback(*options, port);
    const int signals = yardstick::termination_signals();
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (listener < 0 || signals < 0 || epoll < 0 ||
        !yardstick::watch(epoll, listener, EPOLLIN, epoll_data_t{.fd = listener}) ||
        !yardstick::watch(epoll, signals, EPOLLIN, epoll_data_t{.fd = signals})) {
        std::perror("epoll_server: set-up");
        return 1;
    }
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    yardstick::AcceptPause pause(epoll, listener, epoll_data_t{.fd = listener});
    std::uint64_t accepted = 0;
    std::uint64_t greeting_failed = 0;
    auto greet = [&](int fd) {
        ++accepted;
        // A fresh socket's send buffer is empty, so the greeting goes out whole; if it does not, the
        // connection is closed rather than given a write queue the yardstick does not otherwise need.
        const ssize_t sent = send(fd, yardstick::greeting.data(), yardstick::greeting.size(), MSG_NOSIGNAL);
        if (sent != static_cast<ssize_t>(yardstick::greeting.size()) ||
            !yardstick::watch(epoll, fd, EPOLLIN | EPOLLRDHUP, epoll_data_t{.fd = fd})) {
            ++greeting_failed;
            close(fd);
        }
    };

    std::array<epoll_event, 256> events{};
    bool running = true;
    while (running) {
        const int ready = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), pause.wait_milliseconds());
        if (ready < 0 && errno != EINTR) {
            std::perror("epoll_wait");
            return 1;
        }
        pause.resume_if_due();
        for (int i = 0; i < ready; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == signals) {
                running = false;
            } else if (fd == listener) {
                if (!yardstick::accept_all(listener, greet)) pause.start();
            } else if (drain_until_closed(fd)) {
                close(fd);  // also leaves the epoll set: the descriptor was never duplicated
            }
        }
    }
    std::fprintf(stderr, "epoll_server: %llu connections accepted, %llu not greeted\n",
                 static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(greeting_failed));
    return 0;
}
