#include <berth/net/pooled_allocator.hpp>  // first: the header compiles on its own

#include <asio/bind_allocator.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "support/catch.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

using berth::PooledAllocator;

namespace {
struct alignas(32) Wide {
    unsigned char bytes[96];
};
}  // namespace

TEST_CASE("PooledAllocator hands a freed block back to the next allocation of its type on the thread", "[net][allocator]") {
    PooledAllocator<Wide> allocator;
    Wide* first = allocator.allocate(1);
    CHECK(reinterpret_cast<std::uintptr_t>(first) % alignof(Wide) == 0);
    allocator.deallocate(first, 1);
    Wide* second = allocator.allocate(1);
    CHECK(second == first);  // recycled, not a new block
    Wide* third = allocator.allocate(1);
    CHECK(third != second);  // the list was empty: a fresh block
    allocator.deallocate(second, 1);
    allocator.deallocate(third, 1);
}

TEST_CASE("PooledAllocator serves arrays and small types, and rebinds like any allocator", "[net][allocator]") {
    std::vector<int, PooledAllocator<int>> numbers;
    for (int i = 0; i < 1000; ++i) numbers.push_back(i);
    CHECK(numbers.size() == 1000);
    CHECK(numbers[999] == 999);

    PooledAllocator<char> bytes;
    char* one = bytes.allocate(1);  // smaller than the free list's link: the block is a pointer's size
    *one = 'x';
    bytes.deallocate(one, 1);

    PooledAllocator<void> untyped;
    PooledAllocator<Wide> rebound(untyped);
    CHECK(rebound == PooledAllocator<int>());
    auto shared = std::allocate_shared<Wide>(PooledAllocator<Wide>());
    CHECK(shared != nullptr);
}

TEST_CASE("an Asio operation bound to PooledAllocator completes, and its memory is reused", "[net][allocator]") {
    asio::io_context io;
    asio::steady_timer timer(io);
    int completed = 0;
    for (int round = 0; round < 3; ++round) {
        timer.expires_after(std::chrono::milliseconds(1));
        timer.async_wait(asio::bind_allocator(PooledAllocator<void>(), [&](std::error_code ec) {
            if (!ec) ++completed;
        }));
        io.restart();
        io.run_for(std::chrono::seconds(5));
    }
    CHECK(completed == 3);
}
