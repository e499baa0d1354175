#pragma once
// How `berth probe` reports: one line per check, `PASS <listener> <address>: <check>` or
// `FAIL <listener> <address>: <check>: <why>`; SKIP and NOTE lines say what was not tried and why, and
// are not counted. Lines are flushed as they are printed, so a slow server shows progress.

#include <cstdio>
#include <string>
#include <string_view>

namespace berth::probe {

/// What a line is about: the listener and the bind address as the configuration writes it.
struct Subject {
    std::string listener;
    std::string address;
};

class Report {
public:
    explicit Report(std::FILE* out) : out_(out) {}

    void pass(const Subject& s, std::string_view check) {
        ++passed_;
        line("PASS", s, check, {});
    }
    void fail(const Subject& s, std::string_view check, std::string_view why) {
        ++failed_;
        line("FAIL", s, check, why);
    }
    void skip(const Subject& s, std::string_view check, std::string_view why) { line("SKIP", s, check, why); }
    void note(const Subject& s, std::string_view text) { line("NOTE", s, text, {}); }

    /// The last line: exactly `N passed, N failed`.
    void summary() {
        std::fprintf(out_, "%zu passed, %zu failed\n", passed_, failed_);
        std::fflush(out_);
    }

    [[nodiscard]] std::size_t passed() const noexcept { return passed_; }
    [[nodiscard]] std::size_t failed() const noexcept { return failed_; }

private:
    std::FILE* out_;
    std::size_t passed_ = 0;
    std::size_t failed_ = 0;

    void line(const char* verdict, const Subject& s, std::string_view check, std::string_view why) {
        // Through std::string: an empty string_view's data() may be null, which %.*s must not get.
        const std::string text = std::string(verdict) + " " + s.listener + " " + s.address + ": " + std::string(check) +
                                 (why.empty() ? std::string() : ": " + std::string(why)) + "\n";
        std::fputs(text.c_str(), out_);
        std::fflush(out_);
    }
};

}  // namespace berth::probe
