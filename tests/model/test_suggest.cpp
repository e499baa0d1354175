#include <berth/model/suggest.hpp>  // first: the header must compile on its own

#include "support/catch.hpp"

#include <array>
#include <chrono>
#include <string>
#include <string_view>

using berth::did_you_mean;
using berth::detail::edit_distance;

TEST_CASE("edit distance counts insertions, deletions, substitutions and adjacent swaps", "[suggest]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("smtp", "smtp") == 0);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("smtp", "smpt") == 1);    // one transposition, not two substitutions
    CHECK(edit_distance("SHA384", "SHA348") == 1);
    CHECK(edit_distance("imap", "imaps") == 1);
    CHECK(edit_distance("pop3", "op3") == 1);
    CHECK(edit_distance("ca", "abc") == 3);       // optimal string alignment: no edits inside a swap
}

TEST_CASE("edit distance ignores ASCII case only", "[suggest]") {
    CHECK(edit_distance("managesieve", "manageSieve") == 0);
    CHECK(edit_distance("TLSv1.2", "tlsv1.2") == 0);
    CHECK(edit_distance("a-b", "a_b") == 1);
    CHECK(edit_distance("\xc3\x89", "\xc3\xa9") == 1);  // É and é differ: UTF-8 is not case-folded
}

TEST_CASE("edit distance is symmetric", "[suggest]") {
    const std::array<std::string_view, 6> words{"", "smtp", "lmtp", "managesieve", "TLSv1.3", "0x0304"};
    for (auto a : words)
        for (auto b : words) CHECK(edit_distance(a, b) == edit_distance(b, a));
}

TEST_CASE("did_you_mean suggests only close candidates", "[suggest]") {
    const std::array<std::string_view, 6> protocols{"smtp", "lmtp", "imap", "pop3", "managesieve", "http"};
    CHECK(did_you_mean("smpt", protocols) == std::string_view("smtp"));
    CHECK(did_you_mean("IMAP", protocols) == std::string_view("imap"));
    CHECK(did_you_mean("manage-sieve", protocols) == std::string_view("managesieve"));
    CHECK(did_you_mean("htp", protocols) == std::string_view("http"));
    CHECK_FALSE(did_you_mean("ftp", protocols).has_value());  // 2 edits from http, threshold 1 for 3 letters
    CHECK_FALSE(did_you_mean("xmpp", protocols).has_value());
    CHECK_FALSE(did_you_mean("", protocols).has_value());
    CHECK_FALSE(did_you_mean("smtp", {}).has_value());
}

TEST_CASE("the threshold is a third of the word's length, at least 1", "[suggest]") {
    using berth::detail::suggestion_threshold;
    CHECK(suggestion_threshold(0) == 1);
    CHECK(suggestion_threshold(5) == 1);
    CHECK(suggestion_threshold(6) == 2);
    CHECK(suggestion_threshold(9) == 3);
    const std::array<std::string_view, 1> name{"abcdef"};
    CHECK(did_you_mean("abcdxy", name) == std::string_view("abcdef"));  // 2 edits, 6 letters: suggested
    CHECK_FALSE(did_you_mean("abxyzf", name).has_value());             // 3 edits: not
}

TEST_CASE("the first candidate wins a tie", "[suggest]") {
    const std::array<std::string_view, 2> versions{"tls12", "tls13"};
    CHECK(did_you_mean("tls14", versions) == std::string_view("tls12"));
    const std::array<std::string_view, 2> reversed{"tls13", "tls12"};
    CHECK(did_you_mean("tls14", reversed) == std::string_view("tls13"));
}

TEST_CASE("the suggestion points into the candidate list", "[suggest]") {
    const std::array<std::string_view, 2> names{"alpha", "beta"};
    const auto best = did_you_mean("betta", names);
    REQUIRE(best.has_value());
    CHECK(best->data() == names[1].data());
}

TEST_CASE("a huge word is answered at once", "[suggest]") {
    const std::string huge(10'000'000, 'a');
    const std::array<std::string_view, 2> names{"aaaa", "bbbb"};
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(did_you_mean(huge, names).has_value());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("suggest_spelling maps the closest spelling to its suggestion", "[suggest]") {
    using berth::detail::Spelling;
    const std::array<Spelling, 4> spellings{{
        {"manageSieve", "managesieve"},
        {"managesieve", "managesieve"},
        {"https", "http"},
        {"http", "http"},
    }};
    CHECK(berth::detail::suggest_spelling("MANAGESIEVE", spellings) == std::string_view("managesieve"));
    CHECK(berth::detail::suggest_spelling("httpss", spellings) == std::string_view("http"));
    CHECK_FALSE(berth::detail::suggest_spelling("gopher", spellings).has_value());
}
