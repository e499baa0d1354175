#pragma once
// IpAddress: an IPv4 or IPv6 address with Rust's strict grammar and RFC 5952 printing.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "berth/model/parsed.hpp"

namespace berth {

class IpAddress {
public:
    /// Exactly Rust's `IpAddr::from_str`: four decimal octets without leading zeros, or up to eight
    /// groups of 1-4 hex digits with at most one `::` and an optional trailing dotted IPv4 part.
    /// No scope id, no brackets, no whitespace. Error code `ip-address.invalid`.
    static Parsed<IpAddress> parse(std::string_view text);

    static IpAddress v4(std::array<std::uint8_t, 4> octets) noexcept {
        IpAddress a;
        for (std::size_t i = 0; i < 4; ++i) a.bytes_[i] = octets[i];
        return a;
    }
    static IpAddress v6(std::array<std::uint8_t, 16> bytes, std::uint32_t scope_id = 0) noexcept {
        IpAddress a;
        a.is_v6_ = true;
        a.bytes_ = bytes;
        a.scope_id_ = scope_id;
        return a;
    }

    [[nodiscard]] bool is_v4() const noexcept { return !is_v6_; }
    [[nodiscard]] bool is_v6() const noexcept { return is_v6_; }
    /// 0.0.0.0 or :: (whatever the scope id).
    [[nodiscard]] bool is_unspecified() const noexcept {
        const std::size_t length = is_v6_ ? 16 : 4;
        for (std::size_t i = 0; i < length; ++i)
            if (bytes_[i] != 0) return false;
        return true;
    }

    /// The four octets of an IPv4 address; all zero for an IPv6 address.
    [[nodiscard]] std::array<std::uint8_t, 4> v4_bytes() const noexcept {
        if (is_v6_) return {};
        return {bytes_[0], bytes_[1], bytes_[2], bytes_[3]};
    }
    /// The sixteen bytes of an IPv6 address; an IPv4 address gives its mapped form ::ffff:a.b.c.d.
    [[nodiscard]] std::array<std::uint8_t, 16> v6_bytes() const noexcept {
        if (is_v6_) return bytes_;
        return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, bytes_[0], bytes_[1], bytes_[2], bytes_[3]};
    }
    /// 0 unless this is an IPv6 address with a scope id (only SocketAddr's bracket form sets one).
    [[nodiscard]] std::uint32_t scope_id() const noexcept { return scope_id_; }

    /// a.b.c.d for an IPv4-mapped IPv6 address ::ffff:a.b.c.d; nothing for any other address,
    /// including an IPv4 address itself and IPv4-compatible addresses such as ::1.
    [[nodiscard]] std::optional<IpAddress> mapped_v4() const noexcept {
        if (!is_v6_) return std::nullopt;
        for (std::size_t i = 0; i < 10; ++i)
            if (bytes_[i] != 0) return std::nullopt;
        if (bytes_[10] != 0xff || bytes_[11] != 0xff) return std::nullopt;
        return v4({bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
    }

    /// Dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, no leading zeros, the longest run of two
    /// or more zero groups as `::`, the first such run on a tie, ::ffff:a.b.c.d for IPv4-mapped),
    /// followed by `%N` when the scope id is not 0.
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const IpAddress&) const = default;

private:
    IpAddress() = default;

    // Declaration order is comparison order: every IPv4 address sorts before every IPv6 address.
    bool is_v6_ = false;
    std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first four, the rest stay zero
    std::uint32_t scope_id_ = 0;
};

namespace detail {

/// A cursor over a text with the primitives of Rust's `core::net::parser`, one for one, so that the
/// accepted language is exactly Rust's. Every read either succeeds and advances, or fails and
/// leaves the position where it was (Rust's `read_atomically`).
class AddressReader {
public:
    explicit constexpr AddressReader(std::string_view text) noexcept : text_(text) {}

    [[nodiscard]] constexpr bool at_end() const noexcept { return position_ == text_.size(); }

    constexpr bool read_given_char(char expected) noexcept {
        if (position_ < text_.size() && text_[position_] == expected) {
            ++position_;
            return true;
        }
        return false;
    }

    /// Digits in `radix` into a UInt, failing on overflow, on more than `max_digits` digits
    /// (0 = unlimited), on no digit at all, and on a leading zero unless allowed.
    template <class UInt>
    constexpr std::optional<UInt> read_number(unsigned radix, std::size_t max_digits, bool allow_zero_prefix) noexcept {
        const std::size_t start = position_;
        const bool leading_zero = position_ < text_.size() && text_[position_] == '0';
        std::uint64_t result = 0;  // never above UInt's maximum times 16 plus 15: no overflow
        std::size_t digits = 0;
        while (position_ < text_.size()) {
            const int digit = digit_value(text_[position_], radix);
            if (digit < 0) break;
            ++position_;
            result = result * radix + static_cast<unsigned>(digit);
            ++digits;
            if (result > std::numeric_limits<UInt>::max() || (max_digits != 0 && digits > max_digits)) {
                position_ = start;
                return std::nullopt;
            }
        }
        if (digits == 0 || (!allow_zero_prefix && leading_zero && digits > 1)) {
            position_ = start;
            return std::nullopt;
        }
        return static_cast<UInt>(result);
    }

    constexpr std::optional<std::array<std::uint8_t, 4>> read_ipv4() noexcept {
        const std::size_t start = position_;
        std::array<std::uint8_t, 4> octets{};
        for (std::size_t i = 0; i < 4; ++i) {
            std::optional<std::uint8_t> octet;
            if (i == 0 || read_given_char('.')) octet = read_number<std::uint8_t>(10, 3, false);
            if (!octet) {
                position_ = start;
                return std::nullopt;
            }
            octets[i] = *octet;
        }
        return octets;
    }

    constexpr std::optional<std::array<std::uint8_t, 16>> read_ipv6() noexcept {
        const std::size_t start = position_;
        std::array<std::uint16_t, 8> head{};
        const auto [head_size, head_ends_in_ipv4] = read_groups(head);
        if (head_size == 8) return to_bytes(head);
        // An IPv4 part is only allowed at the very end, so never before `::`.
        if (head_ends_in_ipv4 || !read_given_char(':') || !read_given_char(':')) {
            position_ = start;
            return std::nullopt;
        }
        // `::` stands for at least one zero group, so at most 7 groups remain in all.
        std::array<std::uint16_t, 7> tail{};
        const std::size_t limit = 8 - (head_size + 1);
        const std::size_t tail_size = read_groups(std::span<std::uint16_t>(tail).first(limit)).first;
        for (std::size_t i = 0; i < tail_size; ++i) head[8 - tail_size + i] = tail[i];
        return to_bytes(head);
    }

private:
    static constexpr int digit_value(char c, unsigned radix) noexcept {
        int value = -1;
        if (c >= '0' && c <= '9') value = c - '0';
        else if (c >= 'a' && c <= 'z') value = c - 'a' + 10;
        else if (c >= 'A' && c <= 'Z') value = c - 'A' + 10;
        return value >= 0 && static_cast<unsigned>(value) < radix ? value : -1;
    }

    // Rust's `read_groups`: up to groups.size() colon-separated groups; an embedded IPv4 address
    // may take the place of two groups where two slots remain, and ends the run.
    constexpr std::pair<std::size_t, bool> read_groups(std::span<std::uint16_t> groups) noexcept {
        const std::size_t limit = groups.size();
        for (std::size_t i = 0; i < limit; ++i) {
            if (i + 1 < limit) {
                const std::size_t before_ipv4 = position_;
                if (i == 0 || read_given_char(':')) {
                    if (const auto v4 = read_ipv4()) {
                        groups[i] = static_cast<std::uint16_t>(((*v4)[0] << 8) | (*v4)[1]);
                        groups[i + 1] = static_cast<std::uint16_t>(((*v4)[2] << 8) | (*v4)[3]);
                        return {i + 2, true};
                    }
                }
                position_ = before_ipv4;
            }
            const std::size_t before_group = position_;
            std::optional<std::uint16_t> group;
            if (i == 0 || read_given_char(':')) group = read_number<std::uint16_t>(16, 4, true);
            if (!group) {
                position_ = before_group;
                return {i, false};
            }
            groups[i] = *group;
        }
        return {limit, false};
    }

    static constexpr std::array<std::uint8_t, 16> to_bytes(const std::array<std::uint16_t, 8>& groups) noexcept {
        std::array<std::uint8_t, 16> bytes{};
        for (std::size_t i = 0; i < 8; ++i) {
            bytes[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
            bytes[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
        }
        return bytes;
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

/// The whole text as an IPv4 address, or nothing.
constexpr std::optional<std::array<std::uint8_t, 4>> read_whole_ipv4(std::string_view text) noexcept {
    AddressReader reader(text);
    auto octets = reader.read_ipv4();
    if (octets && reader.at_end()) return octets;
    return std::nullopt;
}

/// The whole text as an IPv6 address (no scope id), or nothing.
constexpr std::optional<std::array<std::uint8_t, 16>> read_whole_ipv6(std::string_view text) noexcept {
    AddressReader reader(text);
    auto bytes = reader.read_ipv6();
    if (bytes && reader.at_end()) return bytes;
    return std::nullopt;
}

/// The whole text as an IPv4 or IPv6 address, or nothing.
inline std::optional<IpAddress> read_whole_ip(std::string_view text) noexcept {
    if (const auto v4 = read_whole_ipv4(text)) return IpAddress::v4(*v4);
    if (const auto v6 = read_whole_ipv6(text)) return IpAddress::v6(*v6);
    return std::nullopt;
}

/// The canonical text of an address, socket address or network, built in place: it is printed for every
/// comparison of a sorted list and every bind of a large configuration, where allocating a string each
/// time would cost more than the printing. The longest text, `[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535`,
/// has 58 characters.
class AddressText {
public:
    void push_back(char c) noexcept { chars_[size_++] = c; }
    void append(std::string_view s) noexcept {
        for (char c : s) push_back(c);
    }
    void append_decimal(std::uint32_t value) noexcept {
        std::array<char, 10> digits{};
        std::size_t count = 0;
        do {
            digits[count++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        while (count != 0) push_back(digits[--count]);
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] char back() const noexcept { return chars_[size_ - 1]; }
    [[nodiscard]] std::string_view view() const noexcept { return {chars_.data(), size_}; }
    [[nodiscard]] std::string str() const { return std::string(view()); }

private:
    std::array<char, 64> chars_{};
    std::size_t size_ = 0;
};

inline void write_ipv4(AddressText& out, const std::array<std::uint8_t, 4>& octets) noexcept {
    for (std::size_t i = 0; i < 4; ++i) {
        if (i != 0) out.push_back('.');
        out.append_decimal(octets[i]);
    }
}

inline void write_ipv6(AddressText& out, const std::array<std::uint8_t, 16>& bytes) noexcept {
    if (const auto mapped = IpAddress::v6(bytes).mapped_v4()) {
        out.append("::ffff:");
        write_ipv4(out, mapped->v4_bytes());
        return;
    }

    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i) groups[i] = (unsigned{bytes[2 * i]} << 8) | bytes[2 * i + 1];

    // RFC 5952 §4.2: compress the longest run of zero groups, only if it is two or more long,
    // and the first one when two runs tie.
    std::size_t best_start = 8, best_length = 0;
    for (std::size_t i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < 8 && groups[end] == 0) ++end;
        if (end - i > best_length) {
            best_start = i;
            best_length = end - i;
        }
        i = end;
    }
    if (best_length < 2) best_start = 8;

    constexpr char hex[] = "0123456789abcdef";
    const std::size_t start = out.size();
    for (std::size_t i = 0; i < 8; ++i) {
        if (i == best_start) {
            out.append("::");
            i += best_length - 1;
            continue;
        }
        if (out.size() != start && out.back() != ':') out.push_back(':');
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (groups[i] >> shift) & 0xf;
            if (nibble != 0 || started || shift == 0) {
                out.push_back(hex[nibble]);
                started = true;
            }
        }
    }
}

/// IpAddress::to_string() appended to `out`.
inline void write_ip(AddressText& out, const IpAddress& address) noexcept {
    if (address.is_v4()) {
        write_ipv4(out, address.v4_bytes());
        return;
    }
    write_ipv6(out, address.v6_bytes());
    if (address.scope_id() != 0) {
        out.push_back('%');
        out.append_decimal(address.scope_id());
    }
}

inline std::string format_ipv4(const std::array<std::uint8_t, 4>& octets) {
    AddressText text;
    write_ipv4(text, octets);
    return text.str();
}

inline std::string format_ipv6(const std::array<std::uint8_t, 16>& bytes) {
    AddressText text;
    write_ipv6(text, bytes);
    return text.str();
}

/// What is wrong with a text that is not an IP address, for the error messages of IpAddress,
/// SocketAddr and IpMask. `fixed` is the canonical address the user most likely meant, when
/// there is an obvious one.
enum class AddressProblem : std::uint8_t { other, whitespace, brackets, scope_id, leading_zero, host_name };

struct AddressDiagnosis {
    AddressProblem problem = AddressProblem::other;
    std::string message;
    std::string fixed;
};

/// A text that reads like a DNS name: letters, digits, `-`, `.` and `_`, with at least one letter.
constexpr bool looks_like_host_name(std::string_view text) noexcept {
    bool has_letter = false;
    for (char c : text) {
        if (is_ascii_alpha(c)) has_letter = true;
        else if (!is_ascii_digit(c) && c != '-' && c != '.' && c != '_') return false;
    }
    return has_letter;
}

inline AddressDiagnosis diagnose_dotted_decimal(std::string_view text) {
    const std::string shown = quote_text(text);
    std::array<std::string_view, 4> parts{};
    std::size_t count = 0;
    std::string_view rest = text;
    while (true) {
        const std::size_t dot = rest.find('.');
        const std::string_view part = rest.substr(0, dot);
        if (count == 4 || part.empty())
            return {AddressProblem::other, shown + " is not an IPv4 address: it needs exactly four decimal numbers separated by dots", {}};
        parts[count++] = part;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    if (count != 4)
        return {AddressProblem::other, shown + " is not an IPv4 address: it needs exactly four decimal numbers separated by dots", {}};

    std::array<std::uint8_t, 4> octets{};
    std::string_view first_with_leading_zero;
    for (std::size_t i = 0; i < 4; ++i) {
        std::string_view digits = parts[i];
        if (digits.size() > 1 && digits.front() == '0' && first_with_leading_zero.empty())
            first_with_leading_zero = parts[i];
        while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
        unsigned value = 0;
        for (char c : digits.substr(0, 4)) value = value * 10 + static_cast<unsigned>(c - '0');
        if (value > 255)
            return {AddressProblem::other, "octet " + quote_text(parts[i]) + " of " + shown + " is greater than 255", {}};
        octets[i] = static_cast<std::uint8_t>(value);
    }
    if (!first_with_leading_zero.empty())
        return {AddressProblem::leading_zero,
                "octet " + quote_text(first_with_leading_zero) + " of " + shown +
                    " has a leading zero, which some tools read as octal, so it is ambiguous and rejected",
                format_ipv4(octets)};
    return {AddressProblem::other, shown + " is not an IPv4 address", {}};
}

inline AddressDiagnosis diagnose_colon_hex(std::string_view text) {
    const std::string shown = quote_text(text);
    const auto fail = [&](std::string why) {
        return AddressDiagnosis{AddressProblem::other, shown + " is not an IPv6 address: " + std::move(why), {}};
    };
    for (char c : text)
        if (!is_ascii_hex_digit(c) && c != ':' && c != '.')
            return fail(quote_text(std::string_view(&c, 1)) + " is not a hexadecimal digit");
    if (text.find(":::") != std::string_view::npos) return fail("three colons in a row");
    const std::size_t double_colon = text.find("::");
    const bool compressed = double_colon != std::string_view::npos;
    if (compressed && text.find("::", double_colon + 1) != std::string_view::npos)
        return fail("`::` may appear only once");
    if (!compressed && text.front() == ':') return fail("it starts with a single `:`");
    if (!compressed && text.back() == ':') return fail("it ends with a single `:`");
    if (compressed && double_colon != 0 && text.front() == ':') return fail("it starts with a single `:`");
    if (compressed && double_colon + 2 != text.size() && text.back() == ':') return fail("it ends with a single `:`");

    std::size_t groups = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        const std::size_t colon = rest.find(':');
        const std::string_view group = rest.substr(0, colon);
        const bool last = colon == std::string_view::npos;
        if (group.find('.') != std::string_view::npos) {
            if (!last) return fail("an embedded IPv4 part may only come last");
            if (!read_whole_ipv4(group)) return fail("its IPv4 part " + quote_text(group) + " is not a valid IPv4 address");
            groups += 2;
        } else if (group.size() > 4) {
            return fail("group " + quote_text(group) + " has more than four hexadecimal digits");
        } else if (!group.empty()) {
            ++groups;
        }
        if (last) break;
        rest.remove_prefix(colon + 1);
    }
    if (!compressed && groups != 8)
        return fail("it has " + std::to_string(groups) + " groups; an IPv6 address has eight, or fewer with `::`");
    if (compressed && groups > 7) return fail("it has " + std::to_string(groups) + " groups besides `::`, at most seven fit");
    return fail("it does not follow the IPv6 address syntax");
}

/// Why `text` is not an IP address (the caller has checked that it is not one).
inline AddressDiagnosis diagnose_address(std::string_view text) {
    const std::string shown = quote_text(text);
    if (text.empty()) return {AddressProblem::other, "the address is empty", {}};
    if (contains_ascii_space(text)) {
        const auto fixed = read_whole_ip(without_ascii_space(text));
        return {AddressProblem::whitespace, shown + " contains whitespace", fixed ? fixed->to_string() : std::string()};
    }
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        const auto fixed = read_whole_ipv6(text.substr(1, text.size() - 2));
        return {AddressProblem::brackets,
                shown + " is in brackets, which belong only around the address of a socket address such as `[::1]:25`",
                fixed ? format_ipv6(*fixed) : std::string()};
    }
    if (const std::size_t percent = text.find('%'); percent != std::string_view::npos) {
        const auto fixed = read_whole_ipv6(text.substr(0, percent));
        return {AddressProblem::scope_id,
                shown + " has a scope id, which is only allowed in a bracketed socket address such as `[fe80::1%2]:25`",
                fixed ? format_ipv6(*fixed) : std::string()};
    }
    bool dotted_decimal = text.find('.') != std::string_view::npos;
    for (char c : text)
        if (!is_ascii_digit(c) && c != '.') dotted_decimal = false;
    if (dotted_decimal) return diagnose_dotted_decimal(text);
    if (text.find(':') != std::string_view::npos) return diagnose_colon_hex(text);
    if (looks_like_host_name(text))
        return {AddressProblem::host_name,
                shown + " is a host name; only IP addresses are accepted, names are never resolved", {}};
    return {AddressProblem::other, shown + " is not an IPv4 or IPv6 address", {}};
}

}  // namespace detail

inline Parsed<IpAddress> IpAddress::parse(std::string_view text) {
    if (auto address = detail::read_whole_ip(text)) return *address;
    auto diagnosis = detail::diagnose_address(text);
    std::string hint;
    if (!diagnosis.fixed.empty()) hint = "write `" + diagnosis.fixed + "`";
    else if (diagnosis.problem == detail::AddressProblem::host_name)
        hint = text == "localhost" ? "use `127.0.0.1` or `::1`" : "use the IP address the name stands for";
    return ValueError{"ip-address.invalid", std::move(diagnosis.message), std::move(hint)};
}

inline std::string IpAddress::to_string() const {
    detail::AddressText text;
    detail::write_ip(text, *this);
    return text.str();
}

}  // namespace berth
