#pragma once
// Recycles the fixed-size blocks that hold session states, so a server in steady state does not call
// the allocator per connection. Each thread keeps its own short free list: no locks, no atomics. A
// block freed on another thread than the one that allocated it joins that thread's list.

#include <cstddef>
#include <new>

namespace berth::detail {

template <std::size_t Size, std::size_t Align, std::size_t MaxCachedPerThread = 64>
class BlockPool {
    static_assert(Size >= sizeof(void*));

public:
    [[nodiscard]] static void* allocate() {
        if (cache_gone()) return fresh();
        Cache& cache = thread_cache();
        if (cache.head) {
            Node* node = cache.head;
            cache.head = node->next;
            --cache.count;
            return node;
        }
        return fresh();
    }

    static void deallocate(void* block) noexcept {
        if (cache_gone()) {
            release(block);
            return;
        }
        Cache& cache = thread_cache();
        if (cache.count < MaxCachedPerThread) {
            cache.head = ::new (block) Node{cache.head};
            ++cache.count;
            return;
        }
        release(block);
    }

private:
    // Alignments the plain allocator already gives go through it: the aligned overloads cost a
    // larger, separately aligned block.
    static constexpr bool plain_new = Align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    static void* fresh() {
        if constexpr (plain_new) return ::operator new(Size);
        else return ::operator new(Size, std::align_val_t(Align));
    }
    static void release(void* block) noexcept {
        if constexpr (plain_new) ::operator delete(block);
        else ::operator delete(block, std::align_val_t(Align));
    }

    struct Node {
        Node* next;
    };
    struct Cache {
        Node* head = nullptr;
        std::size_t count = 0;
        ~Cache() {
            while (head) {
                Node* next = head->next;
                release(head);
                head = next;
            }
            cache_gone() = true;
        }
    };
    /// Set when this thread's cache has been destroyed (thread exit, or static destruction on the main
    /// thread): a flag with no destructor, so it can still be read then.
    static bool& cache_gone() noexcept {
        thread_local bool gone = false;
        return gone;
    }
    static Cache& thread_cache() noexcept {
        thread_local Cache cache;
        return cache;
    }
};

}  // namespace berth::detail
