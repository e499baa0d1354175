#pragma once
// An allocator for the memory of asynchronous operations that recycles it per thread, without locks.
// Asio's own recycling allocator keeps two blocks per thread; a server with many connections in flight
// has more operations than that pending at once, so most of them go to malloc and free. Bound to a
// handler with asio::bind_allocator, this one keeps up to 64 blocks of each operation type per thread:
//
//   socket.async_wait(asio::socket_base::wait_read,
//                     asio::bind_allocator(berth::PooledAllocator<void>(), std::move(handler)));

#include <cstddef>
#include <new>

#include "berth/net/detail/block_pool.hpp"

namespace berth {

template <class T>
class PooledAllocator {
    // A free block holds the list's link, so a block is never smaller than a pointer. (A template, so
    // PooledAllocator<void> names no pool.)
    template <class U>
    using pool_for = detail::BlockPool<(sizeof(U) < sizeof(void*) ? sizeof(void*) : sizeof(U)),
                                       (alignof(U) < alignof(void*) ? alignof(void*) : alignof(U))>;

public:
    using value_type = T;

    PooledAllocator() noexcept = default;
    template <class U>
    PooledAllocator(const PooledAllocator<U>&) noexcept {}

    [[nodiscard]] T* allocate(std::size_t n) {
        if (n == 1) return static_cast<T*>(pool_for<T>::allocate());
        return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
    }

    void deallocate(T* p, std::size_t n) noexcept {
        if (n == 1) pool_for<T>::deallocate(p);
        else ::operator delete(p, std::align_val_t(alignof(T)));
    }

    template <class U>
    friend bool operator==(const PooledAllocator&, const PooledAllocator<U>&) noexcept {
        return true;
    }
};

}  // namespace berth
