// A session handler that does its heavy work on a thread_pool and comes back to its session's
// executor before it touches the stream again. co_spawn on the pool runs the work there, and
// use_awaitable delivers the result back on the handler's own executor (the session's strand), so the
// reads and writes never run on two threads at once. The server runs on an io_context with two
// threads: the executor is not serial, and every session gets a strand of its own.
#include <berth/berth.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Policies = berth::Policies<>::with_tls<berth::PlaintextOnly>;

// The heavy work: a checksum of the line (FNV-1a), standing in for a spam score or a signature check.
std::uint64_t checksum(const std::string& text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (const unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
    return hash;
}

std::atomic<int> work_on_pool{0};
std::atomic<int> replies_on_io_threads{0};
std::mutex io_threads_mutex;
std::set<std::thread::id> io_threads;  // the threads that run the server's io_context

// What runs on the pool. A named coroutine taking its input by value: the frame owns the copy (a
// coroutine lambda's captures live in the lambda, not in the frame).
asio::awaitable<std::uint64_t> score(std::string line) {
    ++work_on_pool;
    co_return checksum(line);
}

// One client: a line, and the digest it must get back.
asio::awaitable<void> client(std::uint16_t port, int number, int& right) {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    const std::string text = "message " + std::to_string(number);
    co_await asio::async_write(socket, asio::buffer(text + "\r\n"), asio::use_awaitable);
    std::string reply;
    co_await asio::async_read_until(socket, asio::dynamic_buffer(reply), "\r\n", asio::use_awaitable);
    if (reply == "250 " + std::to_string(checksum(text)) + "\r\n") ++right;
}

bool on_io_thread() {
    std::lock_guard<std::mutex> lock(io_threads_mutex);
    return io_threads.count(std::this_thread::get_id()) != 0;
}

int main() {
    const berth::Resolution config = berth::load(R"(
        [server.listener.score]
        bind = "127.0.0.1:0"
        protocol = "smtp"
        tls.enable = false
    )");
    if (!config.valid()) return 1;

    asio::thread_pool pool(2);
    auto handler = [&pool](berth::Session& session) -> asio::awaitable<void> {
        std::string line;
        const std::size_t n = co_await asio::async_read_until(session.stream(), asio::dynamic_buffer(line, 1024),
                                                              "\r\n", asio::use_awaitable);
        line.resize(n - 2);
        // On the pool: nothing here touches the session.
        const std::uint64_t digest = co_await asio::co_spawn(pool, score(line), asio::use_awaitable);
        // Back on the session's executor: the stream is ours again.
        if (on_io_thread()) ++replies_on_io_threads;
        const std::string reply = "250 " + std::to_string(digest) + "\r\n";
        co_await asio::async_write(session.stream(), asio::buffer(reply), asio::use_awaitable);
    };

    asio::io_context io(2);
    berth::BasicServer<asio::ip::tcp, asio::any_io_executor, Policies> server(io.get_executor(), config.listeners);
    server.bind();
    server.async_run(handler, asio::detached);
    const auto port = server.local_address("score")->port();
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i)
        threads.emplace_back([&io] {
            {
                std::lock_guard<std::mutex> lock(io_threads_mutex);
                io_threads.insert(std::this_thread::get_id());
            }
            io.run();
        });

    // Eight clients at once, each sending a line and checking the digest it gets back.
    constexpr int clients = 8;
    asio::io_context client_io(1);
    int right = 0;
    for (int i = 0; i < clients; ++i) asio::co_spawn(client_io, client(port, i, right), asio::detached);
    client_io.run_for(30s);  // a bound on the whole conversation

    std::promise<void> done;
    server.async_shutdown(5s, [&done] { done.set_value(); });
    done.get_future().wait_for(30s);
    for (auto& thread : threads) thread.join();
    pool.join();
    std::cout << "replies with the right digest: " << right << " of " << clients << '\n';
    std::cout << "work on the pool: " << work_on_pool << ", replies from an I/O thread: " << replies_on_io_threads
              << '\n';
    std::cout << "live sessions after shutdown: " << server.live_sessions() << '\n';
}
