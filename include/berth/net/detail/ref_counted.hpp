#pragma once
// An intrusive reference count for objects that asynchronous handlers on several threads keep alive
// (a session's state): the last release destroys the object, wherever it happens.

#include <atomic>
#include <cstdint>
#include <utility>

namespace berth::detail {

class RefCounted {
public:
    void add_ref() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }
    /// A reference unless the object is already on its way out (its count reached zero): how a
    /// registry that does not own its members reaches one safely.
    [[nodiscard]] bool try_add_ref() noexcept {
        std::uint32_t count = references_.load(std::memory_order_relaxed);
        while (count != 0)
            if (references_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel, std::memory_order_relaxed))
                return true;
        return false;
    }
    void release() noexcept {
        if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
    }

protected:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;
    ~RefCounted() = default;
    /// Called once, by the last release.
    virtual void destroy() noexcept = 0;

private:
    std::atomic<std::uint32_t> references_{0};
};

/// An owning handle: copies add a reference, destruction releases one.
template <class T>
class Ref {
public:
    Ref() noexcept = default;
    explicit Ref(T* object) noexcept : object_(object) {
        if (object_) object_->add_ref();
    }
    /// Takes over a reference already counted (one from try_add_ref).
    [[nodiscard]] static Ref adopt(T* object) noexcept {
        Ref ref;
        ref.object_ = object;
        return ref;
    }
    Ref(const Ref& other) noexcept : Ref(other.object_) {}
    Ref(Ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
    Ref& operator=(Ref other) noexcept {
        std::swap(object_, other.object_);
        return *this;
    }
    ~Ref() {
        if (object_) object_->release();
    }

    [[nodiscard]] T* get() const noexcept { return object_; }
    T* operator->() const noexcept { return object_; }
    T& operator*() const noexcept { return *object_; }
    explicit operator bool() const noexcept { return object_ != nullptr; }

private:
    T* object_ = nullptr;
};

}  // namespace berth::detail
