#pragma once
// Helpers for the network tests: listeners built in code, a blocking loopback client whose every wait
// has a deadline, raw socket inspection (getsockopt, the listen backlog through NETLINK_SOCK_DIAG, the
// process's descriptors and listening sockets), and child processes (HAProxy, openssl s_client) that
// are always killed.

#include <berth/model/resolved_listener.hpp>
#include <berth/model/socket_addr.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace berth::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline SocketAddr addr(std::string_view text) { return SocketAddr::parse(text).value(); }

/// A plaintext listener on the given addresses with every other field at its default.
inline ResolvedListener make_listener(std::string name, std::vector<std::string_view> addresses) {
    ResolvedListener listener;
    listener.name = std::move(name);
    for (auto a : addresses) listener.bind.push_back(addr(a));
    listener.use_tls = false;
    listener.provenance[static_cast<std::size_t>(Field::bind)].path = "server.listener." + listener.name + ".bind";
    return listener;
}

/// Polls `condition` until it holds or `timeout` passes. The condition is asked once more at the
/// deadline: a slow one (reading /proc/net/tcp on a busy host) must not lose to the clock.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() >= deadline) return condition();
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

/// A blocking TCP client on loopback; every operation has a deadline.
class Client {
public:
    Client() = default;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Client& operator=(Client&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~Client() { close(); }

    /// Connects to `target`, from `source` (an address, port 0) when given. False on failure.
    bool connect(const SocketAddr& target, std::optional<std::string_view> source = std::nullopt,
                 std::chrono::milliseconds timeout = 3000ms) {
        close();
        sockaddr_storage storage{};
        const socklen_t length = to_sockaddr(target, storage);
        fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return false;
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (source) {
            sockaddr_storage from{};
            const socklen_t from_length = to_sockaddr(SocketAddr(addr_of(*source), 0), from);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), from_length) != 0) return fail();
        }
        set_nonblocking(true);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
            if (errno != EINPROGRESS) return fail();
            if (!wait_for(POLLOUT, timeout)) return fail();
            int error = 0;
            socklen_t error_length = sizeof error;
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &error_length);
            if (error != 0) {
                errno = error;
                return fail();
            }
        }
        return true;
    }

    bool send(std::string_view data, std::chrono::milliseconds timeout = 3000ms) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n > 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(POLLOUT, timeout)) continue;
            return false;
        }
        return true;
    }

    /// Reads until `text` has arrived (true), or EOF, an error or the deadline (false).
    bool read_until(std::string_view text, std::chrono::milliseconds timeout = 3000ms) {
        const auto deadline = Clock::now() + timeout;
        while (received_.find(text) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !read_some(left)) return false;
        }
        return true;
    }

    /// Reads until the peer closes (true), or the deadline (false). A reset counts as closed.
    bool read_until_closed(std::chrono::milliseconds timeout = 3000ms) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return false;
            if (!wait_for(POLLIN, left)) return false;
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0) {
                received_.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return true;
        }
    }

    [[nodiscard]] const std::string& received() const noexcept { return received_; }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }
    [[nodiscard]] std::uint16_t local_port() const {
        sockaddr_storage storage{};
        socklen_t length = sizeof storage;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length);
        return storage.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                                            : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
    }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    static socklen_t to_sockaddr(const SocketAddr& address, sockaddr_storage& storage) {
        if (address.address().is_v4()) {
            auto* in = reinterpret_cast<sockaddr_in*>(&storage);
            in->sin_family = AF_INET;
            in->sin_port = htons(address.port());
            const auto bytes = address.address().v4_bytes();
            std::memcpy(&in->sin_addr, bytes.data(), 4);
            return sizeof *in;
        }
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(address.port());
        const auto bytes = address.address().v6_bytes();
        std::memcpy(&in6->sin6_addr, bytes.data(), 16);
        in6->sin6_scope_id = address.address().scope_id();
        return sizeof *in6;
    }

private:
    static IpAddress addr_of(std::string_view text) { return IpAddress::parse(text).value(); }

    bool fail() {
        close();
        return false;
    }
    void set_nonblocking(bool on) {
        const int flags = ::fcntl(fd_, F_GETFL, 0);
        ::fcntl(fd_, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
    }
    bool wait_for(short events, std::chrono::milliseconds timeout) {
        pollfd p{fd_, events, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        return ready > 0;
    }
    bool read_some(std::chrono::milliseconds timeout) {
        if (!wait_for(POLLIN, timeout)) return false;
        char buffer[4096];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        received_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string received_;
};

/// An int socket option read with getsockopt itself (Asio's get_option halves SO_SNDBUF/SO_RCVBUF).
inline int raw_int_option(int fd, int level, int name) {
    int value = -1;
    socklen_t length = sizeof value;
    if (::getsockopt(fd, level, name, &value, &length) != 0) return -1;
    return value;
}

inline ::linger raw_linger(int fd) {
    ::linger value{};
    socklen_t length = sizeof value;
    ::getsockopt(fd, SOL_SOCKET, SO_LINGER, &value, &length);
    return value;
}

/// The listen backlog (the kernel's sk_max_ack_backlog, what `ss -ltn` shows as Send-Q) of the
/// listening TCP socket on `port`, read through NETLINK_SOCK_DIAG; nullopt when there is none.
inline std::optional<std::uint32_t> listen_backlog(std::uint16_t port, int family = AF_INET) {
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return std::nullopt;
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = static_cast<std::uint8_t>(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1u << 10;  // TCP_LISTEN
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        ::close(fd);
        return std::nullopt;
    }
    std::optional<std::uint32_t> backlog;
    alignas(nlmsghdr) char buffer[16384];
    for (bool done = false; !done;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) break;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        // NLMSG_OK/NLMSG_NEXT compare signed with unsigned; the same walk, written out.
        for (std::size_t at = 0; at + sizeof(nlmsghdr) <= static_cast<std::size_t>(n);) {
            const auto* header = reinterpret_cast<const nlmsghdr*>(buffer + at);
            if (header->nlmsg_len < sizeof(nlmsghdr) || at + header->nlmsg_len > static_cast<std::size_t>(n)) break;
            at += NLMSG_ALIGN(header->nlmsg_len);
            if (header->nlmsg_type == NLMSG_DONE || header->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            const auto* diag = reinterpret_cast<const inet_diag_msg*>(reinterpret_cast<const char*>(header) +
                                                                      NLMSG_HDRLEN);
            if (ntohs(diag->id.idiag_sport) == port) backlog = diag->idiag_wqueue;
        }
    }
    ::close(fd);
    return backlog;
}

/// How many descriptors this process has open.
inline std::size_t open_descriptor_count() {
    std::size_t count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir))
            if (entry->d_name[0] != '.') ++count;
        ::closedir(dir);
    }
    return count > 0 ? count - 1 : 0;  // the directory's own descriptor
}

/// Open socket descriptors of this process: what a failed bind must not leave behind (the io_context's
/// own descriptors, epoll and eventfd, are not sockets).
inline std::size_t open_socket_count() {
    std::size_t count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] == '.') continue;
            char target[64] = {};
            const std::string path = std::string("/proc/self/fd/") + entry->d_name;
            const ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
            if (length > 0 && std::string_view(target, static_cast<std::size_t>(length)).starts_with("socket:")) ++count;
        }
        ::closedir(dir);
    }
    return count;
}

/// The ports of TCP sockets in LISTEN state that belong to this process (/proc/net/tcp and tcp6,
/// matched by socket inode against /proc/self/fd).
inline std::multiset<std::uint16_t> own_listening_ports() {
    std::set<unsigned long> inodes;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(dir)) {
            char target[256] = {};
            const std::string path = std::string("/proc/self/fd/") + entry->d_name;
            const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
            if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)).starts_with("socket:["))
                inodes.insert(std::stoul(std::string(target + 8, static_cast<std::size_t>(n) - 9)));
        }
        ::closedir(dir);
    }
    std::multiset<std::uint16_t> ports;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
            unsigned long inode = 0;
            fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
            if (state != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
            ports.insert(static_cast<std::uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16)));
        }
    }
    return ports;
}

/// A port that was free a moment ago (for configurations that need a fixed port).
inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in);
    socklen_t length = sizeof in;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &length);
    ::close(fd);
    return ntohs(in.sin_port);
}

/// A child process with its stdin and its merged stdout+stderr on pipes; killed (SIGTERM, then
/// SIGKILL) when destroyed.
class ChildProcess {
public:
    explicit ChildProcess(std::vector<std::string> arguments) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, out[1], 2);
        std::vector<char*> argv;
        for (auto& a : arguments) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start " + arguments.front());
        }
        ::fcntl(stdout_, F_SETFL, ::fcntl(stdout_, F_GETFL, 0) | O_NONBLOCK);
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        close_stdin();
        kill();
        if (stdout_ >= 0) ::close(stdout_);
    }

    bool write(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::write(stdin_, data.data(), data.size());
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }

    /// Reads the output until `text` appears (true) or the deadline or the end of output (false).
    bool read_until(std::string_view text, std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = Clock::now() + timeout;
        while (output_.find(text) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !read_some(left)) return false;
        }
        return true;
    }

    /// Waits for the process to exit; its exit status, or nullopt at the deadline. Output is collected.
    std::optional<int> wait(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            read_some(0ms);
            int status = 0;
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) {
                while (read_some(0ms)) {
                }
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (Clock::now() >= deadline) return std::nullopt;
            read_some(5ms);
        }
    }

    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        if (!wait(2000ms)) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }

    [[nodiscard]] const std::string& output() const noexcept { return output_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    bool read_some(std::chrono::milliseconds timeout) {
        pollfd p{stdout_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
        char buffer[4096];
        const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
        if (n <= 0) return false;
        output_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string output_;
};

/// A directory under /tmp removed with its files at the end.
class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/berth-net-test-XXXXXX";
        if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp");
        path_ = pattern;
    }
    ~TempDir() {
        for (const auto& file : files_) ::unlink(file.c_str());
        ::rmdir(path_.c_str());
    }
    std::string write(const std::string& name, std::string_view content) {
        const std::string file = path_ + "/" + name;
        std::ofstream(file, std::ios::binary) << content;
        files_.push_back(file);
        return file;
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    std::vector<std::string> files_;
};

inline bool executable_exists(const char* path) { return ::access(path, X_OK) == 0; }

/// The end of every thread in `threads`, joined on a thread of its own.
inline std::future<void> join_all(std::vector<std::thread>& threads) {
    return std::async(std::launch::async, [&threads] {
        for (auto& thread : threads) thread.join();
    });
}

/// Whether `running` (the threads that run `context`) ends within `timeout` by itself: the context ran
/// out of work. When it does not, the context is stopped and `running` waited for, so the test ends.
template <class Context>
bool ran_out_of_work(std::future<void>& running, Context& context, std::chrono::milliseconds timeout = 10000ms) {
    if (running.wait_for(timeout) == std::future_status::ready) return true;
    context.stop();
    running.wait();
    return false;
}

/// Values handed from the server's threads to the test thread; every wait has a deadline.
template <class T>
class Mailbox {
public:
    void push(T value) {
        // Notified under the lock: a reader that returns and destroys the mailbox cannot do so while
        // this call still touches it.
        std::lock_guard<std::mutex> lock(mutex_);
        items_.push_back(std::move(value));
        ready_.notify_all();
    }
    std::optional<T> pop(std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!ready_.wait_for(lock, timeout, [this] { return !items_.empty(); })) return std::nullopt;
        T value = std::move(items_.front());
        items_.pop_front();
        return value;
    }
    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return items_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
};

}  // namespace berth::test
