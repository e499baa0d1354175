#pragma once
// An immutable string shared by reference: copying it copies one pointer. Provenance paths are copied into
// every listener that inherits a server-wide value, so they are held this way rather than as std::string.

#include <atomic>
#include <compare>
#include <cstddef>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <new>
#include <ostream>
#include <string>
#include <string_view>

namespace berth {

/// One pointer to a reference-counted block holding the characters (one allocation per distinct text,
/// none for the empty text). The count is atomic, so copies may be made and dropped on any thread.
/// Reads like a `std::string_view` it converts to; `str()` makes a `std::string`.
class SharedText {
public:
    SharedText() noexcept = default;
    SharedText(std::string_view text) : block_(make(text.size())) {  // NOLINT: implicit, like std::string's
        if (block_) std::memcpy(block_->chars(), text.data(), text.size());
    }
    SharedText(const char* text) : SharedText(std::string_view{text}) {}  // NOLINT
    SharedText(const std::string& text) : SharedText(std::string_view{text}) {}  // NOLINT

    /// The parts one after the other, in one allocation.
    [[nodiscard]] static SharedText concat(std::initializer_list<std::string_view> parts) {
        std::size_t size = 0;
        for (auto p : parts) size += p.size();
        SharedText out;
        out.block_ = make(size);
        if (out.block_) {
            char* at = out.block_->chars();
            for (auto p : parts) {
                if (!p.empty()) std::memcpy(at, p.data(), p.size());
                at += p.size();
            }
        }
        return out;
    }

    SharedText(const SharedText& other) noexcept : block_(other.block_) {
        if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    SharedText(SharedText&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
    SharedText& operator=(const SharedText& other) noexcept {
        SharedText copy(other);
        swap(copy);
        return *this;
    }
    SharedText& operator=(SharedText&& other) noexcept {
        SharedText moved(std::move(other));
        swap(moved);
        return *this;
    }
    SharedText& operator=(std::string_view text) { return *this = SharedText(text); }
    SharedText& operator=(const char* text) { return *this = SharedText(text); }
    SharedText& operator=(const std::string& text) { return *this = SharedText(text); }
    ~SharedText() { release(); }

    void swap(SharedText& other) noexcept { std::swap(block_, other.block_); }
    friend void swap(SharedText& a, SharedText& b) noexcept { a.swap(b); }

    [[nodiscard]] std::string_view view() const noexcept {
        return block_ ? std::string_view{block_->chars(), block_->size} : std::string_view{};
    }
    operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit on purpose
    [[nodiscard]] std::string str() const { return std::string(view()); }

    /// Never null; the characters are followed by a NUL.
    [[nodiscard]] const char* data() const noexcept { return block_ ? block_->chars() : ""; }
    [[nodiscard]] const char* c_str() const noexcept { return data(); }
    [[nodiscard]] std::size_t size() const noexcept { return block_ ? block_->size : 0; }
    [[nodiscard]] std::size_t length() const noexcept { return size(); }
    [[nodiscard]] bool empty() const noexcept { return block_ == nullptr; }
    [[nodiscard]] char operator[](std::size_t i) const noexcept { return data()[i]; }
    [[nodiscard]] const char* begin() const noexcept { return data(); }
    [[nodiscard]] const char* end() const noexcept { return data() + size(); }

    [[nodiscard]] bool starts_with(std::string_view prefix) const noexcept { return view().starts_with(prefix); }
    [[nodiscard]] bool starts_with(char c) const noexcept { return view().starts_with(c); }
    [[nodiscard]] bool ends_with(std::string_view suffix) const noexcept { return view().ends_with(suffix); }
    [[nodiscard]] bool ends_with(char c) const noexcept { return view().ends_with(c); }
    [[nodiscard]] std::size_t find(std::string_view s, std::size_t pos = 0) const noexcept {
        return view().find(s, pos);
    }
    [[nodiscard]] std::size_t find(char c, std::size_t pos = 0) const noexcept { return view().find(c, pos); }
    [[nodiscard]] std::string_view substr(std::size_t pos = 0, std::size_t n = std::string_view::npos) const {
        return view().substr(pos, n);
    }

    /// Whether both share one block (equal texts need not).
    [[nodiscard]] bool shares_with(const SharedText& other) const noexcept { return block_ == other.block_; }

    friend bool operator==(const SharedText& a, const SharedText& b) noexcept {
        return a.block_ == b.block_ || a.view() == b.view();
    }
    friend bool operator==(const SharedText& a, std::string_view b) noexcept { return a.view() == b; }
    friend bool operator==(const SharedText& a, const char* b) noexcept { return a.view() == std::string_view{b}; }
    friend bool operator==(const SharedText& a, const std::string& b) noexcept { return a.view() == b; }
    friend std::strong_ordering operator<=>(const SharedText& a, const SharedText& b) noexcept {
        return a.view() <=> b.view();
    }
    friend std::strong_ordering operator<=>(const SharedText& a, std::string_view b) noexcept {
        return a.view() <=> b;
    }
    friend std::strong_ordering operator<=>(const SharedText& a, const char* b) noexcept {
        return a.view() <=> std::string_view{b};
    }
    friend std::strong_ordering operator<=>(const SharedText& a, const std::string& b) noexcept {
        return a.view() <=> std::string_view{b};
    }

    friend std::string operator+(std::string a, const SharedText& b) {
        a.append(b.view());
        return a;
    }
    friend std::string operator+(const char* a, const SharedText& b) { return std::string(a) + b; }
    friend std::string operator+(const SharedText& a, std::string_view b) {
        std::string out;
        out.reserve(a.size() + b.size());
        out.append(a.view()).append(b);
        return out;
    }
    friend std::string operator+(const SharedText& a, const char* b) { return a + std::string_view{b}; }
    friend std::string operator+(const SharedText& a, const std::string& b) { return a + std::string_view{b}; }

    friend std::ostream& operator<<(std::ostream& out, const SharedText& text) { return out << text.view(); }

private:
    struct Block {
        std::atomic<std::size_t> refs{1};
        std::size_t size = 0;
        [[nodiscard]] char* chars() noexcept { return reinterpret_cast<char*>(this + 1); }
        [[nodiscard]] const char* chars() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    };

    /// A block for `size` characters and a NUL, the characters left to fill; null for size 0.
    static Block* make(std::size_t size) {
        if (size == 0) return nullptr;
        void* memory = ::operator new(sizeof(Block) + size + 1);
        Block* block = ::new (memory) Block;
        block->size = size;
        block->chars()[size] = '\0';
        return block;
    }

    void release() noexcept {
        if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            block_->~Block();
            ::operator delete(static_cast<void*>(block_));
        }
        block_ = nullptr;
    }

    Block* block_ = nullptr;
};

}  // namespace berth

template <>
struct std::hash<berth::SharedText> {
    std::size_t operator()(const berth::SharedText& text) const noexcept {
        return std::hash<std::string_view>{}(text.view());
    }
};
