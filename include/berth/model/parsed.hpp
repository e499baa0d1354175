#pragma once
// Parsed<T>: the result of a strict value parse, either the value or a ValueError with a stable code.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace berth {

/// Why a text is not a valid value. `code` is stable (tests and tools match on it); `message` says
/// what is wrong in one line; `hint` shows the fix when there is one, otherwise it is empty.
struct ValueError {
    std::string code;
    std::string message;
    std::string hint;

    friend bool operator==(const ValueError&, const ValueError&) = default;
};

/// A T or a ValueError. Asking for the side that is not there (`value()`, `*`, `->` on an error,
/// `error()` on a value) throws std::logic_error in every build mode: it is a programming error,
/// and it must never be undefined behaviour.
template <class T>
class Parsed {
    static_assert(!std::is_same_v<std::remove_cv_t<T>, ValueError>, "Parsed<ValueError> would be ambiguous");

public:
    Parsed(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Parsed(ValueError error) : state_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    [[nodiscard]] const T& value() const& {
        require_value();
        return *std::get_if<0>(&state_);
    }
    [[nodiscard]] T& value() & {
        require_value();
        return *std::get_if<0>(&state_);
    }
    [[nodiscard]] T&& value() && {
        require_value();
        return std::move(*std::get_if<0>(&state_));
    }

    [[nodiscard]] const T& operator*() const& { return value(); }
    [[nodiscard]] T& operator*() & { return value(); }
    [[nodiscard]] T&& operator*() && { return std::move(*this).value(); }
    [[nodiscard]] const T* operator->() const { return &value(); }
    [[nodiscard]] T* operator->() { return &value(); }

    [[nodiscard]] const ValueError& error() const& {
        if (has_value()) throw std::logic_error("berth::Parsed::error() called on a parsed value");
        return *std::get_if<1>(&state_);
    }
    [[nodiscard]] ValueError&& error() && {
        if (has_value()) throw std::logic_error("berth::Parsed::error() called on a parsed value");
        return std::move(*std::get_if<1>(&state_));
    }

private:
    void require_value() const {
        if (!has_value())
            throw std::logic_error("berth::Parsed::value() called on an error (" + std::get_if<1>(&state_)->code +
                                   ")");
    }

    std::variant<T, ValueError> state_;
};

namespace detail {

// ASCII character classes for the value parsers. <cctype> is locale-dependent and undefined for
// negative chars, so the parsers use these instead.
constexpr bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_ascii_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_ascii_hex_digit(char c) noexcept {
    return is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// The ASCII whitespace that TOML and JSON strings can carry: space, \t, \n, \v, \f, \r.
constexpr bool is_ascii_space(char c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }
constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool all_ascii_digits(std::string_view s) noexcept {
    for (char c : s)
        if (!is_ascii_digit(c)) return false;
    return !s.empty();
}

constexpr bool contains_ascii_space(std::string_view s) noexcept {
    for (char c : s)
        if (is_ascii_space(c)) return true;
    return false;
}

constexpr std::string_view trim_ascii_space(std::string_view s) noexcept {
    while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
    return s;
}

inline std::string without_ascii_space(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (!is_ascii_space(c)) out.push_back(c);
    return out;
}

/// The input as it may appear inside a one-line message: in backticks, bytes outside printable
/// ASCII as \xNN, cut after `max_bytes` so a 10 MB input cannot produce a 40 MB message.
inline std::string quote_text(std::string_view text, std::size_t max_bytes = 64) {
    constexpr char hex[] = "0123456789abcdef";
    std::string out = "`";
    const std::size_t shown = text.size() < max_bytes ? text.size() : max_bytes;
    for (std::size_t i = 0; i < shown; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7f) {
            out.push_back(static_cast<char>(byte));
        } else {
            out += "\\x";
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0xf]);
        }
    }
    if (shown < text.size()) out += "...";
    out.push_back('`');
    return out;
}

}  // namespace detail
}  // namespace berth
