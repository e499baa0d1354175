#pragma once
// Source positions for JSON. nlohmann-json 3.11 keeps no positions in its values (3.12 added them),
// so after it has accepted a document this scanner walks the same text once and records the line and
// column of every value and member name by JSON pointer.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "berth/config/text.hpp"

namespace berth::detail {

struct TextPosition {
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

/// Line and column (1-based, columns in code points like toml++) of byte offsets in a text.
class LineIndex {
public:
    explicit LineIndex(std::string_view text) : text_(text) {
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
    [[nodiscard]] TextPosition at(std::size_t offset) const {
        if (offset > text_.size()) offset = text_.size();
        std::size_t lo = 0, hi = line_starts_.size();
        while (hi - lo > 1) {
            const std::size_t mid = (lo + hi) / 2;
            if (line_starts_[mid] <= offset) lo = mid;
            else hi = mid;
        }
        std::uint32_t column = 1;
        for (std::size_t i = line_starts_[lo]; i < offset; ++i)
            if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
        return {static_cast<std::uint32_t>(lo + 1), column};
    }

private:
    std::string_view text_;
    std::vector<std::size_t> line_starts_;
};

/// The deepest nesting of arrays and objects, scanning strings correctly; stops counting past `limit`.
[[nodiscard]] inline std::size_t json_nesting_depth(std::string_view text, std::size_t limit) noexcept {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return deepest;
}

class JsonLocator {
public:
    /// `text` must be a JSON document nlohmann-json accepted, nested at most a few hundred levels deep.
    explicit JsonLocator(std::string_view text) : text_(text), lines_(text) {
        skip_space();
        value("");
    }

    [[nodiscard]] TextPosition value_at(const std::string& pointer) const { return find(values_, pointer); }
    [[nodiscard]] TextPosition key_at(const std::string& pointer) const { return find(keys_, pointer); }

private:
    std::string_view text_;
    LineIndex lines_;
    std::size_t pos_ = 0;
    std::unordered_map<std::string, std::size_t> values_, keys_;

    TextPosition find(const std::unordered_map<std::string, std::size_t>& map, const std::string& pointer) const {
        auto it = map.find(pointer);
        return it == map.end() ? TextPosition{} : lines_.at(it->second);
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\r'))
            ++pos_;
    }

    std::string string_token() {  // at '"'; returns the decoded text (escapes kept simple: \uXXXX as UTF-8)
        std::string out;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (c != '\\' || pos_ >= text_.size()) {
                out += c;
                continue;
            }
            const char e = text_[pos_++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'u': append_unicode_escape(out); break;
            default: out += e; break;
            }
        }
        ++pos_;  // closing quote
        return out;
    }

    std::uint32_t hex4() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4 && pos_ < text_.size(); ++i, ++pos_) {
            const char c = text_[pos_];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
        }
        return v;
    }

    void append_unicode_escape(std::string& out) {
        std::uint32_t cp = hex4();
        if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u') {
            pos_ += 2;
            const std::uint32_t low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    void value(const std::string& pointer) {
        if (pos_ >= text_.size()) return;
        values_[pointer] = pos_;
        const char c = text_[pos_];
        if (c == '{') {
            ++pos_;
            skip_space();
            while (pos_ < text_.size() && text_[pos_] != '}') {
                const std::size_t key_start = pos_;
                const std::string member = pointer + "/" + json_pointer_token(string_token());
                keys_[member] = key_start;
                skip_space();
                ++pos_;  // ':'
                skip_space();
                value(member);
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
                skip_space();
            }
            ++pos_;
        } else if (c == '[') {
            ++pos_;
            skip_space();
            std::size_t index = 0;
            while (pos_ < text_.size() && text_[pos_] != ']') {
                value(pointer + "/" + std::to_string(index++));
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
                skip_space();
            }
            ++pos_;
        } else if (c == '"') {
            string_token();
        } else {
            while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ']' && text_[pos_] != '}' &&
                   text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\r' && text_[pos_] != '\t')
                ++pos_;
        }
    }
};

}  // namespace berth::detail
