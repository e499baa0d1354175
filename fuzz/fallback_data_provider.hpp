#pragma once
// The part of libFuzzer's FuzzedDataProvider that the structured target uses, for compilers that do not ship
// <fuzzer/FuzzedDataProvider.h> (g++ builds of the replay executables). It splits the bytes exactly as the real
// class does (integers taken from the end of the input, strings from the front, `\` escapes in random-length
// strings), so a saved input builds the same document in a clang libFuzzer build and in a g++ replay build.

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>

namespace berth_fuzz {

class FallbackDataProvider {
public:
    FallbackDataProvider(const std::uint8_t* data, std::size_t size) noexcept : data_(data), remaining_(size) {}
    FallbackDataProvider(const FallbackDataProvider&) = delete;
    FallbackDataProvider& operator=(const FallbackDataProvider&) = delete;

    [[nodiscard]] std::size_t remaining_bytes() const noexcept { return remaining_; }

    /// A value in [min, max] built from up to sizeof(T) bytes taken off the end; `min` once the input is used up.
    template <class T>
    T ConsumeIntegralInRange(T min, T max) {
        static_assert(std::is_integral_v<T> && sizeof(T) <= sizeof(std::uint64_t));
        if (min > max) std::abort();
        const std::uint64_t range = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min);
        std::uint64_t result = 0;
        std::size_t bits_read = 0;
        while (bits_read < sizeof(T) * CHAR_BIT && (range >> bits_read) > 0 && remaining_ != 0) {
            --remaining_;
            result = (result << CHAR_BIT) | data_[remaining_];
            bits_read += CHAR_BIT;
        }
        if (range != std::numeric_limits<std::uint64_t>::max()) result = result % (range + 1);
        return static_cast<T>(static_cast<std::uint64_t>(min) + result);
    }

    template <class T>
    T ConsumeIntegral() {
        return ConsumeIntegralInRange(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
    }

    bool ConsumeBool() { return (ConsumeIntegral<std::uint8_t>() & 1) != 0; }

    template <class T, std::size_t N>
    T PickValueInArray(const std::array<T, N>& values) {
        static_assert(N > 0);
        return values[ConsumeIntegralInRange<std::size_t>(0, N - 1)];
    }

    template <class T, std::size_t N>
    T PickValueInArray(const T (&values)[N]) {
        static_assert(N > 0);
        return values[ConsumeIntegralInRange<std::size_t>(0, N - 1)];
    }

    /// Up to `max_length` bytes from the front. `\\` stands for one backslash; `\` and any other byte ends the
    /// string, so a mutation that inserts bytes lengthens the string instead of shifting everything after it.
    std::string ConsumeRandomLengthString(std::size_t max_length) {
        std::string result;
        for (std::size_t i = 0; i < max_length && remaining_ != 0; ++i) {
            char next = static_cast<char>(take_front());
            if (next == '\\' && remaining_ != 0) {
                next = static_cast<char>(take_front());
                if (next != '\\') break;
            }
            result += next;
        }
        return result;
    }

    std::string ConsumeBytesAsString(std::size_t count) {
        if (count > remaining_) count = remaining_;
        std::string result(reinterpret_cast<const char*>(data_), count);
        data_ += count;
        remaining_ -= count;
        return result;
    }

    std::string ConsumeRemainingBytesAsString() { return ConsumeBytesAsString(remaining_); }

private:
    std::uint8_t take_front() noexcept {
        const std::uint8_t byte = *data_;
        ++data_;
        --remaining_;
        return byte;
    }

    const std::uint8_t* data_;
    std::size_t remaining_;
};

}  // namespace berth_fuzz
