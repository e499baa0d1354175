#include <berth/net/accepted_socket.hpp>  // first: the header compiles on its own

#include <berth/net/runner.hpp>

#include <fcntl.h>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "support/catch.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/support/net_test_support.hpp"

using namespace berth;
using namespace berth::test;

namespace {

/// The state of an accepted descriptor as the handler first sees it, before any operation on it.
struct DescriptorState {
    bool kernel_non_blocking = false;
    bool close_on_exec = false;
    bool asio_non_blocking = false;
};

/// Records the descriptor's state, greets, and waits for the client to close.
struct InspectThenGreet {
    std::shared_ptr<std::mutex> mutex;
    std::shared_ptr<std::vector<DescriptorState>> seen;

    asio::awaitable<void> operator()(Session& session) const {
        const int fd = session.socket().native_handle();
        DescriptorState state;
        state.kernel_non_blocking = (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
        state.close_on_exec = (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
        state.asio_non_blocking = session.socket().native_non_blocking();
        {
            std::lock_guard<std::mutex> lock(*mutex);
            seen->push_back(state);
        }
        co_await asio::async_write(session.stream(), asio::buffer(std::string_view("hi\r\n")), asio::use_awaitable);
        std::error_code ec;
        co_await session.async_wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    }
};

}  // namespace

TEST_CASE("the acceptor takes connections with accept4 only when Asio's internals are opted in", "[net][accept]") {
#if defined(BERTH_ASIO_INTERNALS) && BERTH_ASIO_INTERNALS
    CHECK(Session::socket_type::direct_accept);
#else
    CHECK_FALSE(Session::socket_type::direct_accept);
#endif
}

TEST_CASE("an accepted descriptor is non-blocking and close-on-exec before its first operation", "[net][accept]") {
    auto mutex = std::make_shared<std::mutex>();
    auto seen = std::make_shared<std::vector<DescriptorState>>();
    ServerRunner server({make_listener("inspect", {"127.0.0.1:0"})}, RunnerOptions{});
    server.bind();
    server.start(InspectThenGreet{mutex, seen});

    Client client;
    REQUIRE(client.connect(*server.local_address("inspect")));
    REQUIRE(client.read_until("hi\r\n"));
    std::lock_guard<std::mutex> lock(*mutex);
    REQUIRE(seen->size() == 1);
    if (Session::socket_type::direct_accept) {
        CHECK(seen->front().kernel_non_blocking);
        CHECK(seen->front().close_on_exec);
        CHECK(seen->front().asio_non_blocking);  // Asio knows, so it sets nothing itself
    }
}

TEST_CASE("a burst of connections larger than one accept batch is served whole", "[net][accept]") {
    // The direct accept takes at most a batch of connections in a row before the sessions get their
    // turn; every connection of a burst several batches long must still be accepted and greeted.
    auto mutex = std::make_shared<std::mutex>();
    auto seen = std::make_shared<std::vector<DescriptorState>>();
    ServerRunner server({make_listener("burst", {"127.0.0.1:0"})}, RunnerOptions{});
    server.bind();
    server.start(InspectThenGreet{mutex, seen});
    const SocketAddr target = *server.local_address("burst");

    constexpr std::size_t burst = 100;
    std::vector<Client> clients(burst);
    for (auto& client : clients) REQUIRE(client.connect(target));
    std::size_t greeted = 0;
    for (auto& client : clients) greeted += client.read_until("hi\r\n") ? 1 : 0;
    CHECK(greeted == burst);
    CHECK(eventually([&] { return server.live_sessions() == burst; }));

    // Closing them all ends every session, and the descriptors they leave are reused by the next ones
    // (a descriptor closed without leaving the epoll set first must not confuse the reactor).
    clients.clear();
    CHECK(eventually([&] { return server.live_sessions() == 0; }));
    for (int round = 0; round < 20; ++round) {
        Client again;
        REQUIRE(again.connect(target));
        CHECK(again.read_until("hi\r\n"));
    }
}
