#pragma once
// Duration: a whole number of milliseconds, written `<digits><unit>` (SPEC §2.2).

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/model/parsed.hpp"

namespace berth {

class Duration {
public:
    /// `<digits><unit>`, unit `ms`, `s`, `m`, `h` or `d` in any case; no sign, space, fraction or
    /// compound. A bare number is not accepted here: the surfaces read a TOML integer or JSON
    /// number as milliseconds with from_milliseconds(). Codes `duration.*`.
    static Parsed<Duration> parse(std::string_view text);

    static constexpr Duration from_milliseconds(std::uint64_t milliseconds) noexcept { return Duration(milliseconds); }
    [[nodiscard]] constexpr std::uint64_t milliseconds() const noexcept { return milliseconds_; }

    /// The largest unit that divides exactly: `1d`, `90m`, `90s`, `1500ms`, and `0ms` for zero.
    [[nodiscard]] std::string to_string() const;

    constexpr auto operator<=>(const Duration&) const = default;

private:
    constexpr explicit Duration(std::uint64_t milliseconds) noexcept : milliseconds_(milliseconds) {}

    std::uint64_t milliseconds_;
};

namespace detail {

struct DurationUnit {
    std::string_view name;
    std::uint64_t milliseconds;
};

/// Largest first, the order to_string() tries them in.
inline constexpr std::array<DurationUnit, 5> duration_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

/// Spellings people write that berth does not accept, used only to show the accepted equivalent.
inline constexpr std::array<DurationUnit, 23> duration_unit_aliases{{
    {"msec", 1},        {"msecs", 1},          {"millis", 1},       {"millisecond", 1},    {"milliseconds", 1},
    {"sec", 1'000},     {"secs", 1'000},       {"second", 1'000},   {"seconds", 1'000},    {"min", 60'000},
    {"mins", 60'000},   {"minute", 60'000},    {"minutes", 60'000}, {"hr", 3'600'000},     {"hrs", 3'600'000},
    {"hour", 3'600'000}, {"hours", 3'600'000}, {"day", 86'400'000}, {"days", 86'400'000}, {"w", 604'800'000},
    {"wk", 604'800'000}, {"week", 604'800'000}, {"weeks", 604'800'000},
}};

template <std::size_t N>
constexpr std::optional<std::uint64_t> unit_milliseconds(std::string_view unit,
                                                         const std::array<DurationUnit, N>& table) noexcept {
    for (const auto& entry : table)
        if (equal_ignoring_ascii_case(unit, entry.name)) return entry.milliseconds;
    return std::nullopt;
}

/// Decimal digits times a multiplier, or nothing when the product does not fit in 64 bits.
constexpr std::optional<std::uint64_t> scaled_decimal(std::string_view digits, std::uint64_t multiplier) noexcept {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t value = 0;
    for (char c : digits) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (max - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    if (multiplier != 0 && value > max / multiplier) return std::nullopt;
    return value * multiplier;
}

constexpr std::optional<std::uint64_t> checked_sum(std::uint64_t a, std::uint64_t b) noexcept {
    if (a > std::numeric_limits<std::uint64_t>::max() - b) return std::nullopt;
    return a + b;
}

/// One `<number><unit>` piece of a text that failed the strict grammar.
struct DurationPiece {
    std::string_view whole;     // digits before the point
    std::string_view fraction;  // digits after the point
    bool has_point = false;
    std::string_view unit;      // letters after the number, possibly empty
};

/// `whole.fraction` units of `multiplier` ms as whole milliseconds, when exact and in range.
constexpr std::optional<std::uint64_t> exact_fraction(const DurationPiece& piece, std::uint64_t multiplier) noexcept {
    std::string_view fraction = piece.fraction;
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    // With no trailing zero, 10^k divides fraction·multiplier only if 2^k or 5^k divides the
    // multiplier (86'400'000 = 2^10·3^3·5^5), so more than 10 digits is never whole milliseconds.
    if (fraction.size() > 10) return std::nullopt;
    std::uint64_t power = 1;
    for (std::size_t i = 0; i < fraction.size(); ++i) power *= 10;
    const auto scaled_fraction = scaled_decimal(fraction, multiplier);  // < 10^10 · 86'400'000: fits
    if (!scaled_fraction || *scaled_fraction % power != 0) return std::nullopt;
    const auto whole = scaled_decimal(piece.whole, multiplier);
    if (!whole) return std::nullopt;
    return checked_sum(*whole, *scaled_fraction / power);
}

inline std::string duration_units_hint() { return "units are ms, s, m, h and d, in any case, e.g. `30s` or `1m`"; }

inline ValueError duration_error(std::string code, std::string message, std::string hint) {
    return ValueError{std::move(code), std::move(message), std::move(hint)};
}

inline ValueError out_of_range(std::string_view text) {
    return duration_error("duration.out-of-range",
                          quote_text(text) + " is more than 18446744073709551615 milliseconds (about 584 million years)",
                          "use a smaller duration");
}

inline ValueError diagnose_duration(std::string_view text) {
    const std::string shown = quote_text(text);
    if (text.empty()) return duration_error("duration.invalid", "the duration is empty", "write e.g. `30s` or `1m`");
    if (contains_ascii_space(text)) {
        auto fixed = Duration::parse(without_ascii_space(text));  // no whitespace left: no further recursion
        return duration_error("duration.invalid", shown + " contains whitespace",
                              fixed ? "write `" + fixed->to_string() + "`"
                                    : "write the number and unit together, e.g. `30s`");
    }
    if (text.front() == '-')
        return duration_error("duration.invalid", shown + " is negative", "a duration is 0 or more, e.g. `0ms`");
    if (text.front() == '+') {
        auto fixed = Duration::parse(text.substr(1));
        return duration_error("duration.invalid", shown + " has a sign",
                              fixed ? "write `" + fixed->to_string() + "`" : "write it without the `+`");
    }

    std::vector<DurationPiece> pieces;
    std::size_t at = 0;
    const auto span_of = [&](auto accept) {
        const std::size_t start = at;
        while (at < text.size() && accept(text[at])) ++at;
        return text.substr(start, at - start);
    };
    while (at < text.size()) {
        DurationPiece piece;
        piece.whole = span_of(is_ascii_digit);
        if (at < text.size() && text[at] == '.') {
            piece.has_point = true;
            ++at;
            piece.fraction = span_of(is_ascii_digit);
        }
        if (piece.whole.empty() && piece.fraction.empty()) {
            if (at < text.size() && is_ascii_alpha(text[at]) && pieces.empty())
                return duration_error("duration.invalid", shown + " has no number before its unit",
                                      "write a number, then the unit, e.g. `30s`");
            const std::size_t where = at < text.size() ? at : text.size() - 1;
            return duration_error("duration.invalid",
                                  quote_text(text.substr(where, 1)) + " is not allowed in duration " + shown,
                                  "write digits, then one unit, e.g. `30s`");
        }
        piece.unit = span_of(is_ascii_alpha);
        pieces.push_back(piece);
        if (pieces.size() > 64) break;  // surely compound: no need to read a huge text to the end
    }
    const bool read_to_end = at == text.size();

    if (pieces.size() == 1) {
        const DurationPiece& piece = pieces.front();
        const auto unit = unit_milliseconds(piece.unit, duration_units);
        if (!piece.unit.empty() && !unit) {
            std::string hint = duration_units_hint();
            if (const auto alias = unit_milliseconds(piece.unit, duration_unit_aliases); alias && !piece.has_point) {
                if (const auto total = scaled_decimal(piece.whole, *alias))
                    hint = "write `" + Duration::from_milliseconds(*total).to_string() + "`; " + hint;
            }
            return duration_error("duration.unknown-unit", "unknown unit " + quote_text(piece.unit) + " in " + shown,
                                  std::move(hint));
        }
        if (piece.has_point) {
            std::string hint = "a duration is a whole number of one unit, e.g. `1500ms` for 1.5 s";
            if (unit) {
                if (const auto total = exact_fraction(piece, *unit))
                    hint = "write `" + Duration::from_milliseconds(*total).to_string() + "`";
                else hint = "a duration is a whole number of milliseconds";
            }
            return duration_error("duration.fraction", shown + " has a fraction", std::move(hint));
        }
        if (!unit) {
            const auto as_milliseconds = scaled_decimal(piece.whole, 1);
            return duration_error(
                "duration.invalid", shown + " has no unit",
                as_milliseconds ? "write `" + Duration::from_milliseconds(*as_milliseconds).to_string() +
                                      "` (a bare number means milliseconds only as a TOML integer or JSON number)"
                                : duration_units_hint());
        }
        return out_of_range(text);
    }

    // Two or more pieces, each with a unit berth knows or recognises: a compound such as `1m30s`.
    bool every_unit_recognised = true;
    std::optional<std::uint64_t> total = std::uint64_t{0};
    for (const auto& piece : pieces) {
        auto unit = unit_milliseconds(piece.unit, duration_units);
        if (!unit) unit = unit_milliseconds(piece.unit, duration_unit_aliases);
        if (!unit) {
            every_unit_recognised = false;
            break;
        }
        if (piece.has_point) total.reset();
        if (total) {
            const auto part = scaled_decimal(piece.whole, *unit);
            total = part ? checked_sum(*total, *part) : std::nullopt;
        }
    }
    if (!read_to_end) total.reset();
    if (!every_unit_recognised)
        return duration_error("duration.invalid", shown + " is not `<digits><unit>`", "write e.g. `30s` or `1m`");
    return duration_error("duration.compound", shown + " combines several units; a duration has exactly one",
                          total ? "write `" + Duration::from_milliseconds(*total).to_string() + "`"
                                : "write the total in one unit, e.g. `90s` for `1m30s`");
}

}  // namespace detail

inline Parsed<Duration> Duration::parse(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && detail::is_ascii_digit(text[digits])) ++digits;
    if (digits > 0) {
        if (const auto unit = detail::unit_milliseconds(text.substr(digits), detail::duration_units)) {
            if (const auto total = detail::scaled_decimal(text.substr(0, digits), *unit)) return Duration(*total);
            return detail::out_of_range(text);
        }
    }
    return detail::diagnose_duration(text);
}

inline std::string Duration::to_string() const {
    if (milliseconds_ == 0) return "0ms";
    for (const auto& unit : detail::duration_units)
        if (milliseconds_ % unit.milliseconds == 0)
            return std::to_string(milliseconds_ / unit.milliseconds) + std::string(unit.name);
    return std::to_string(milliseconds_) + "ms";  // unreachable: "ms" divides everything
}

}  // namespace berth
