#pragma once
// The connection-limit policy: a permit per connection, taken with a compare-and-swap so a limit is
// never overshot, and given back by the permit's destructor, whatever way the session ends.

#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace berth {

/// Live connections against a limit. Lock-free; every member is safe from any thread.
class ConnectionCounter {
public:
    explicit ConnectionCounter(std::uint32_t limit) noexcept : limit_(limit) {}
    ConnectionCounter(const ConnectionCounter&) = delete;
    ConnectionCounter& operator=(const ConnectionCounter&) = delete;

    /// One more live connection, unless that would pass the limit. Read-then-increment would let
    /// concurrent acceptors overshoot (Stalwart does that); the compare-and-swap cannot.
    [[nodiscard]] bool try_take() noexcept {
        std::uint32_t live = live_.load(std::memory_order_relaxed);
        do {
            if (live >= limit_) return false;
        } while (!live_.compare_exchange_weak(live, live + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
        raise_peak(live + 1);
        return true;
    }

    void give_back() noexcept { live_.fetch_sub(1, std::memory_order_acq_rel); }

    [[nodiscard]] std::uint32_t live() const noexcept { return live_.load(std::memory_order_acquire); }
    [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
    /// The most connections ever live at once: what a test checks against the limit.
    [[nodiscard]] std::uint32_t peak() const noexcept { return peak_.load(std::memory_order_acquire); }

private:
    void raise_peak(std::uint32_t live) noexcept {
        std::uint32_t peak = peak_.load(std::memory_order_relaxed);
        while (live > peak && !peak_.compare_exchange_weak(peak, live, std::memory_order_acq_rel))
            ;
    }

    const std::uint32_t limit_;
    std::atomic<std::uint32_t> live_{0};
    std::atomic<std::uint32_t> peak_{0};
};

/// A held place in one or two counters (the listener's, and a global cap's). Move-only; the
/// destructor gives every place back, so no path can leak one.
class Permit {
public:
    Permit() noexcept = default;
    explicit Permit(ConnectionCounter& counter) noexcept : counters_{&counter, nullptr} {}
    Permit(ConnectionCounter& first, ConnectionCounter& second) noexcept : counters_{&first, &second} {}
    Permit(Permit&& other) noexcept : counters_(std::exchange(other.counters_, {})) {}
    Permit& operator=(Permit&& other) noexcept {
        if (this != &other) {
            release();
            counters_ = std::exchange(other.counters_, {});
        }
        return *this;
    }
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    [[nodiscard]] bool held() const noexcept { return counters_[0] != nullptr; }
    explicit operator bool() const noexcept { return held(); }

    void release() noexcept {
        for (auto*& counter : counters_)
            if (counter) std::exchange(counter, nullptr)->give_back();
    }

private:
    std::array<ConnectionCounter*, 2> counters_{};
};

/// A connection-limit policy turns the listener's counter into a permit, or refuses.
template <class L>
concept ConnectionLimitPolicy = requires(const L& limit, ConnectionCounter& listener_counter) {
    typename L::permit_type;
    requires std::move_constructible<typename L::permit_type>;
    requires !std::copy_constructible<typename L::permit_type>;
    { limit.try_acquire(listener_counter) } -> std::same_as<std::optional<typename L::permit_type>>;
};

/// SPEC §5: `maxConnections` per listener, shared by all its addresses. Not a global cap.
struct PerListenerLimit {
    using permit_type = Permit;
    [[nodiscard]] std::optional<Permit> try_acquire(ConnectionCounter& listener_counter) const noexcept {
        if (!listener_counter.try_take()) return std::nullopt;
        return Permit(listener_counter);
    }
};

/// The per-listener limit plus one cap over all listeners of the server (a berth extension). The cap's
/// counter is shared by copies of the policy, so a program can read it.
class GlobalConnectionCap {
public:
    using permit_type = Permit;
    explicit GlobalConnectionCap(std::uint32_t cap) : global_(std::make_shared<ConnectionCounter>(cap)) {}

    [[nodiscard]] std::optional<Permit> try_acquire(ConnectionCounter& listener_counter) const noexcept {
        if (!listener_counter.try_take()) return std::nullopt;
        if (!global_->try_take()) {
            listener_counter.give_back();
            return std::nullopt;
        }
        return Permit(listener_counter, *global_);
    }
    [[nodiscard]] const ConnectionCounter& global() const noexcept { return *global_; }

private:
    std::shared_ptr<ConnectionCounter> global_;
};

}  // namespace berth
