#pragma once
// did-you-mean: the closest known name to a misspelt one, by case-insensitive edit distance.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace berth {
namespace detail {

constexpr char fold_ascii_case(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Optimal-string-alignment distance (Levenshtein plus the transposition of two adjacent
/// characters), ASCII case-insensitive. Time O(|a|·|b|), memory O(|b|).
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    if (a.empty()) return b.size();
    if (b.empty()) return a.size();
    // Three rows of the dynamic-programming table: two rows back (for transpositions), previous, current.
    std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        const char ai = fold_ascii_case(a[i - 1]);
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const char bj = fold_ascii_case(b[j - 1]);
            const std::size_t substitution = previous[j - 1] + (ai == bj ? 0 : 1);
            std::size_t best = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
            if (i > 1 && j > 1 && ai == fold_ascii_case(b[j - 2]) && fold_ascii_case(a[i - 2]) == bj)
                best = std::min(best, before[j - 2] + 1);
            current[j] = best;
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

/// The largest distance still worth suggesting for a word of this length: a third of it, at least 1.
constexpr std::size_t suggestion_threshold(std::size_t length) noexcept { return (length < 3 ? 3 : length) / 3; }

}  // namespace detail

/// The candidate closest to `word`, when it is close enough to be a likely typo: case-insensitive
/// edit distance at most max(|word|, 3) / 3 (so 1 for up to 5 characters, 2 for 6 to 8, ...). The
/// first candidate wins a tie. A candidate equal to `word` apart from case is distance 0 and is
/// returned, which is what a caller with case-sensitive names wants to tell the user.
/// Runs in O(|word| · total candidate length) at worst; candidates whose length differs from the
/// word's by more than the threshold are skipped without computing anything.
inline std::optional<std::string_view> did_you_mean(std::string_view word,
                                                    std::span<const std::string_view> candidates) {
    const std::size_t threshold = detail::suggestion_threshold(word.size());
    std::optional<std::string_view> best;
    std::size_t best_distance = threshold + 1;
    for (std::string_view candidate : candidates) {
        const std::size_t length_gap =
            word.size() > candidate.size() ? word.size() - candidate.size() : candidate.size() - word.size();
        if (length_gap >= best_distance) continue;  // the distance is at least the length difference
        const std::size_t distance = detail::edit_distance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

namespace detail {

/// One way a name may be written, and the name to suggest for it: lets a parser suggest the right
/// spelling on its own surface when given another surface's spelling (or a misspelling of it).
struct Spelling {
    std::string_view text;
    std::string_view suggestion;
};

/// The suggestion of the spelling that did_you_mean() picks for `word`, if any.
inline std::optional<std::string_view> suggest_spelling(std::string_view word, std::span<const Spelling> spellings) {
    std::vector<std::string_view> texts;
    texts.reserve(spellings.size());
    for (const auto& spelling : spellings) texts.push_back(spelling.text);
    const auto best = did_you_mean(word, texts);
    if (!best) return std::nullopt;
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (texts[i].data() == best->data() && texts[i].size() == best->size()) return spellings[i].suggestion;
    return std::nullopt;
}

}  // namespace detail
}  // namespace berth
