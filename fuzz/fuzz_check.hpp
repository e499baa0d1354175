#pragma once
// How a fuzz target reports a broken property: print what was broken and the document under test, then trap.
// __builtin_trap() is a crash to libFuzzer and to the replay executable alike, with or without sanitizers,
// and it cannot be compiled out the way assert() is under NDEBUG.

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace berth_fuzz {

/// The text a target is checking right now (a generated document, a converted one), shown when a check fails:
/// the fuzzer's input alone does not show what the structured target built from it, or which conversion broke.
inline std::string_view& document_under_test() noexcept {
    static std::string_view document;
    return document;
}

/// Names the document under test for as long as it lives.
class DocumentScope {
public:
    explicit DocumentScope(std::string_view document) noexcept : previous_(document_under_test()) {
        document_under_test() = document;
    }
    ~DocumentScope() { document_under_test() = previous_; }
    DocumentScope(const DocumentScope&) = delete;
    DocumentScope& operator=(const DocumentScope&) = delete;

private:
    std::string_view previous_;
};

[[noreturn]] inline void fail(const char* condition, const std::string& detail, const char* file, int line) noexcept {
    std::fprintf(stderr, "\n%s:%d: fuzz property violated: %s\n", file, line, condition);
    if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
    const std::string_view document = document_under_test();
    constexpr std::size_t shown_bytes = 4096;
    if (!document.empty()) {
        const int length = static_cast<int>(document.size() < shown_bytes ? document.size() : shown_bytes);
        std::fprintf(stderr, "---- document under test (%zu bytes%s) ----\n%.*s\n---- end of document ----\n",
                     document.size(), document.size() > shown_bytes ? ", first 4096 shown" : "", length,
                     document.data());
    }
    std::fflush(stderr);
    __builtin_trap();
}

}  // namespace berth_fuzz

/// Traps when `condition` is false. `detail` is any expression convertible to std::string, evaluated only then.
#define BERTH_FUZZ_CHECK_DETAIL(condition, detail)                                                 \
    do {                                                                                           \
        if (!(condition)) ::berth_fuzz::fail(#condition, std::string(detail), __FILE__, __LINE__); \
    } while (false)

#define BERTH_FUZZ_CHECK(condition) BERTH_FUZZ_CHECK_DETAIL(condition, std::string())
