#include <berth/net/accept_errors.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <asio/write.hpp>

#include "support/catch.hpp"

#include <sys/resource.h>
#include <sys/time.h>

#include <atomic>
#include <memory>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

TEST_CASE("accept errors: transient ones skipped, resource exhaustion backs off, a closed socket stops",
          "[net][accept-errors]") {
    const DefaultAcceptErrors policy;
    auto os = [](int value) { return std::error_code(value, std::system_category()); };
    for (int skipped : {ECONNABORTED, EINTR, EPROTO, ECONNRESET, EAGAIN, ENETUNREACH, EHOSTUNREACH, EPERM})
        CHECK(policy.classify(os(skipped)) == AcceptErrorAction::skip);
    for (int exhausted : {EMFILE, ENFILE, ENOBUFS, ENOMEM})
        CHECK(policy.classify(os(exhausted)) == AcceptErrorAction::back_off);
    // Standalone Asio reports the same numbers in its own category.
    CHECK(policy.classify(asio::error::connection_aborted) == AcceptErrorAction::skip);
    CHECK(policy.classify(asio::error::no_descriptors) == AcceptErrorAction::back_off);
    CHECK(policy.classify(asio::error::operation_aborted) == AcceptErrorAction::stop);
    CHECK(policy.classify(asio::error::bad_descriptor) == AcceptErrorAction::stop);
    CHECK(policy.classify(std::make_error_code(std::errc::too_many_files_open)) == AcceptErrorAction::back_off);
    CHECK(policy.classify(asio::error::eof) == AcceptErrorAction::back_off);  // unexpected: pause, never spin
}

TEST_CASE("the backoff doubles from 5 ms to 1 s", "[net][accept-errors]") {
    const DefaultAcceptErrors policy;
    std::vector<long> pauses;
    std::chrono::milliseconds pause{0};
    for (int i = 0; i < 10; ++i) pauses.push_back((pause = policy.next_backoff(pause)).count());
    CHECK(pauses == std::vector<long>{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000});
    CHECK(policy.report_interval() == std::chrono::milliseconds(1000));
}

namespace {

struct BackoffEvents {
    std::shared_ptr<std::atomic<int>> reported = std::make_shared<std::atomic<int>>(0);
    void on_event(const Event& event) const {
        if (event.kind == EventKind::accept_backoff) ++*reported;
    }
};

/// Restores the descriptor limit, and closes the descriptors used to exhaust it, on every path.
class DescriptorExhaustion {
public:
    DescriptorExhaustion() {
        ::getrlimit(RLIMIT_NOFILE, &original_);
        rlimit lowered = original_;
        lowered.rlim_cur = std::min<rlim_t>(original_.rlim_cur, static_cast<rlim_t>(open_descriptor_count() + 256));
        ::setrlimit(RLIMIT_NOFILE, &lowered);
        for (int i = 0; i < 4096; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            fillers_.push_back(fd);
        }
    }
    DescriptorExhaustion(const DescriptorExhaustion&) = delete;
    DescriptorExhaustion& operator=(const DescriptorExhaustion&) = delete;
    ~DescriptorExhaustion() {
        release();
        ::setrlimit(RLIMIT_NOFILE, &original_);
    }
    [[nodiscard]] bool exhausted() const {
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
        return fd < 0 && errno == EMFILE;
    }
    /// Frees one descriptor (for the client's socket).
    void free_one() {
        ::close(fillers_.back());
        fillers_.pop_back();
    }
    void release() {
        for (int fd : fillers_) ::close(fd);
        fillers_.clear();
    }

private:
    rlimit original_{};
    std::vector<int> fillers_;
};

std::chrono::microseconds process_cpu_time() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto micros = [](const timeval& t) { return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec); };
    return micros(usage.ru_utime) + micros(usage.ru_stime);
}

}  // namespace

TEST_CASE("EMFILE pauses the acceptor without spinning, and it recovers when descriptors are freed",
          "[net][accept-errors]") {
    using Bundle = Policies<>::with_events<BackoffEvents>;
    BasicServerRunner<asio::ip::tcp, Bundle> server({make_listener("smtp", {"127.0.0.1:0"})});
    server.bind();
    server.start([](Session& session) -> asio::awaitable<void> {
        asio::steady_timer timer(session.get_executor());
        timer.expires_after(1ms);
        co_await timer.async_wait(asio::use_awaitable);
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("ok\r\n")), asio::use_awaitable);
    });
    const SocketAddr endpoint = *server.local_address("smtp");

    // One connection served before the descriptors run out, so the I/O thread is running and has been
    // through the accept, timer and event paths once. (Under UBSan, a vptr check whose type cache
    // misses opens a pipe to probe memory; without a free descriptor that probe fails and UBSan
    // reports a false "invalid vptr".)
    Client warm_up;
    REQUIRE(warm_up.connect(endpoint));
    REQUIRE(warm_up.read_until("ok\r\n"));
    warm_up.close();

    Client client;
    {
        DescriptorExhaustion exhaustion;
        REQUIRE(exhaustion.exhausted());
        exhaustion.free_one();
        REQUIRE(client.connect(endpoint));  // takes the freed descriptor; accept() will find none

        const auto cpu_before = process_cpu_time();
        std::this_thread::sleep_for(700ms);
        const auto cpu_used = process_cpu_time() - cpu_before;
        CHECK(cpu_used < 200ms);  // a spinning accept loop would burn the whole 700 ms
        const auto stats = server.stats("smtp");
        CHECK(stats.accept_backoffs >= 4);  // 5, 10, 20, 40, 80, 160, 320 ms within 700 ms
        CHECK(stats.accept_backoffs <= 9);
        CHECK(*server.policies().events.reported == 1);  // reported at most once a second
        CHECK(client.received().empty());
    }
    // Descriptors are free again: the next attempt (at most 1 s later) accepts the waiting client.
    CHECK(client.read_until("ok\r\n", 3s));
    server.shutdown(1s);
}
