#pragma once
// Turns one scalar as either surface wrote it into a FieldValue of the field's kind, with SPEC §2's
// grammars and §1's ranges, reporting every problem with the key, position and fix.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/config/text.hpp"
#include "berth/model/configuration.hpp"

namespace berth::detail {

/// A scalar from either parser, reduced to what the checks need.
struct Scalar {
    enum class Type : std::uint8_t { boolean, integer, floating, string, null, other };
    Type type = Type::other;
    bool boolean = false;
    bool negative = false;        ///< integers: below zero
    std::uint64_t magnitude = 0;  ///< integers: absolute value
    /// Strings: the text, after %{env:}% expansion. It points into the document or into the reader's
    /// expansion buffer, so a Scalar is used before the reader makes the next one.
    std::string_view text;
    std::string_view type_name;   ///< for messages: "a table", "an array", "a date"...
};

class ValueReader {
public:
    ValueReader(Surface surface, std::vector<Diagnostic>& out) : surface_(surface), out_(out) {}

    void error(std::string code, const Source& at, std::string message, std::string hint = {}) {
        out_.push_back({Severity::error, std::move(code), at.path.str(), at.line, at.column, std::move(message),
                        std::move(hint)});
    }
    void warning(std::string code, const Source& at, std::string message, std::string hint = {}) {
        out_.push_back({Severity::warning, std::move(code), at.path.str(), at.line, at.column, std::move(message),
                        std::move(hint)});
    }

    /// A single-valued field (everything but the lists).
    std::optional<FieldValue> scalar(const FieldSpec& spec, const Scalar& s, const Source& at) {
        if (s.type == Scalar::Type::null) return Unset{};  // JSON null: the same as leaving it out
        if (spec.nullable && s.type == Scalar::Type::boolean && !s.boolean && surface_ == Surface::toml)
            return Unset{};
        switch (spec.kind) {
        case ValueKind::boolean: return boolean(s, at);
        case ValueKind::integer: return integer(spec, s, at);
        case ValueKind::duration:
        case ValueKind::duration_seconds: return duration(spec, s, at);
        case ValueKind::protocol: return protocol(s, at);
        default: break;
        }
        return std::nullopt;
    }

    /// Appends one list element to `list` (a vector alternative of FieldValue); false when invalid.
    bool element(const FieldSpec& spec, const Scalar& s, const Source& at, FieldValue& list) {
        if (s.type != Scalar::Type::string) {
            wrong_type(s, at, "a string", element_example(spec));
            return false;
        }
        switch (spec.kind) {
        case ValueKind::socket_addr_list: return push<SocketAddr>(SocketAddr::parse(s.text), at, list);
        case ValueKind::ip_mask_set: {
            auto parsed = IpMask::parse(s.text);
            if (parsed && parsed->has_host_bits())
                warning("ip-mask.host-bits", at, detail::quote_text(s.text) + " has host bits set beyond the /" +
                                                     std::to_string(parsed->prefix()) + " prefix",
                        "write the network address, or keep it if the intent is clear");
            return push<IpMask>(std::move(parsed), at, list);
        }
        case ValueKind::tls_version_set:
            return push<TlsVersion>(surface_ == Surface::toml ? parse_tls_version_toml(s.text)
                                                              : parse_tls_version_json(s.text),
                                    at, list);
        case ValueKind::cipher_suite_set:
            return push<TlsCipherSuite>(surface_ == Surface::toml ? parse_cipher_suite_toml(s.text)
                                                                  : parse_cipher_suite_json(s.text),
                                        at, list);
        default: return false;
        }
    }

    static FieldValue empty_list(const FieldSpec& spec) {
        switch (spec.kind) {
        case ValueKind::socket_addr_list: return std::vector<SocketAddr>{};
        case ValueKind::ip_mask_set: return std::vector<IpMask>{};
        case ValueKind::tls_version_set: return std::vector<TlsVersion>{};
        case ValueKind::cipher_suite_set: return std::vector<TlsCipherSuite>{};
        default: return Unset{};
        }
    }

    void wrong_type(const Scalar& s, const Source& at, std::string_view expected, std::string_view example) {
        error("value.wrong-type", at, "expected " + std::string(expected) + ", found " + describe(s),
              example.empty() ? std::string{} : "for example: " + std::string(example));
    }

private:
    Surface surface_;
    std::vector<Diagnostic>& out_;

    static std::string describe(const Scalar& s) {
        switch (s.type) {
        case Scalar::Type::boolean: return s.boolean ? "true" : "false";
        case Scalar::Type::integer: return (s.negative ? "-" : "") + std::to_string(s.magnitude);
        case Scalar::Type::floating: return "a floating-point number";
        case Scalar::Type::string: return "the string " + detail::quote_text(s.text);
        case Scalar::Type::null: return "null";
        case Scalar::Type::other: return std::string(s.type_name.empty() ? "another type" : s.type_name);
        }
        return "another type";
    }

    std::string element_example(const FieldSpec& spec) const {
        const bool toml = surface_ == Surface::toml;
        switch (spec.kind) {
        case ValueKind::socket_addr_list: return "\"[::]:25\" or \"127.0.0.1:8080\"";
        case ValueKind::ip_mask_set: return "\"10.0.0.0/8\" or \"2001:db8::/32\"";
        case ValueKind::tls_version_set: return toml ? "\"TLSv1.2\"" : "\"tls12\"";
        case ValueKind::cipher_suite_set:
            return toml ? "\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"" : "\"tls-ecdhe-rsa-with-aes-128-gcm-sha256\"";
        default: return {};
        }
    }

    template <class T>
    bool push(Parsed<T> parsed, const Source& at, FieldValue& list) {
        if (!parsed) {
            const auto& e = parsed.error();
            error(e.code, at, e.message, e.hint);
            return false;
        }
        if (auto* v = std::get_if<std::vector<T>>(&list)) v->push_back(std::move(*parsed));
        return true;
    }

    std::optional<FieldValue> boolean(const Scalar& s, const Source& at) {
        if (s.type == Scalar::Type::boolean) return s.boolean;
        if (surface_ == Surface::toml && s.type == Scalar::Type::string) {
            if (s.text == "true") return true;
            if (s.text == "false") return false;
        }
        wrong_type(s, at, "a boolean", surface_ == Surface::toml ? "true, false, \"true\" or \"false\"" : "true or false");
        return std::nullopt;
    }

    std::optional<FieldValue> integer(const FieldSpec& spec, const Scalar& s, const Source& at) {
        std::optional<std::uint64_t> value;
        bool negative = false;
        if (s.type == Scalar::Type::integer) {
            value = s.magnitude;
            negative = s.negative;
        } else if (surface_ == Surface::toml && s.type == Scalar::Type::string && all_ascii_digits(s.text)) {
            value = parse_decimal(s.text);
            if (!value) return out_of_range(spec, at, std::string(s.text), false);
        }
        if (!value) {
            wrong_type(s, at, spec.nullable && surface_ == Surface::toml ? "an integer, or false to leave it unset"
                                                                         : "an integer",
                       std::to_string(spec.min == 0 ? 1 : spec.min));
            return std::nullopt;
        }
        if (negative || *value < spec.min || *value > spec.max)
            return out_of_range(spec, at, (negative ? "-" : "") + std::to_string(*value), *value == 0 && !negative);
        return FieldValue{*value};
    }

    std::optional<FieldValue> out_of_range(const FieldSpec& spec, const Source& at, const std::string& shown,
                                           bool zero) {
        std::string hint;
        if (zero && spec.min >= 1) {
            hint = spec.nullable ? "Stalwart silently treats 0 as unset; to leave it to the OS, " +
                                       std::string(surface_ == Surface::toml ? "write false" : "use null")
                                 : "the smallest value is " + std::to_string(spec.min) +
                                       " (Stalwart silently treats 0 as unset)";
        } else {
            hint = "use a value from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
        }
        error("value.out-of-range", at,
              std::string(surface_ == Surface::toml ? spec.toml_key : spec.json_name) + " must be between " +
                  std::to_string(spec.min) + " and " + std::to_string(spec.max) + ", got " + shown,
              std::move(hint));
        return std::nullopt;
    }

    std::optional<FieldValue> duration(const FieldSpec& spec, const Scalar& s, const Source& at) {
        std::optional<Duration> d;
        if (s.type == Scalar::Type::integer) {
            if (s.negative) {
                error("value.out-of-range", at, "a duration cannot be negative", "for example: \"30s\"");
                return std::nullopt;
            }
            d = Duration::from_milliseconds(s.magnitude);
        } else if (s.type == Scalar::Type::string) {
            if (all_ascii_digits(s.text)) {
                auto ms = parse_decimal(s.text);
                if (!ms) {
                    error("duration.out-of-range", at, "the duration " + detail::quote_text(s.text) + " is too large");
                    return std::nullopt;
                }
                d = Duration::from_milliseconds(*ms);
            } else {
                auto parsed = Duration::parse(s.text);
                if (!parsed) {
                    error(parsed.error().code, at, parsed.error().message, parsed.error().hint);
                    return std::nullopt;
                }
                d = *parsed;
            }
        } else {
            wrong_type(s, at,
                       spec.nullable && surface_ == Surface::toml
                           ? "a duration, or false to leave it unset"
                           : (surface_ == Surface::toml ? "a duration" : "a duration in milliseconds or a string"),
                       "\"30s\", \"1m\" or 60000 (milliseconds)");
            return std::nullopt;
        }
        const auto ms = d->milliseconds();
        if (ms < spec.min) {
            error("value.out-of-range", at,
                  std::string(surface_ == Surface::toml ? spec.toml_key : spec.json_name) + " must be greater than 0",
                  "for example: \"1m\"");
            return std::nullopt;
        }
        if (spec.kind == ValueKind::duration_seconds) {
            if (ms % 1000 != 0) {
                const auto secs = ms / 1000 + 1;
                error("linger.not-whole-seconds", at,
                      "the linger time is in whole seconds; " + d->to_string() + " is not" +
                          (s.type == Scalar::Type::integer ? " (a bare number means milliseconds)" : ""),
                      "write \"" + std::to_string(s.type == Scalar::Type::integer && ms < 1000 ? ms : secs) +
                          "s\" for whole seconds");
                return std::nullopt;
            }
            if (ms > spec.max) {
                error("value.out-of-range", at, "the linger time is too long", "use at most 2147483647s");
                return std::nullopt;
            }
        }
        return FieldValue{*d};
    }

    std::optional<FieldValue> protocol(const Scalar& s, const Source& at) {
        if (s.type != Scalar::Type::string) {
            wrong_type(s, at, "a protocol name", surface_ == Surface::toml ? "\"smtp\"" : "\"smtp\"");
            return std::nullopt;
        }
        auto p = surface_ == Surface::toml ? parse_protocol_toml(s.text) : parse_protocol_json(s.text);
        if (!p) {
            error(p.error().code, at, p.error().message, p.error().hint);
            return std::nullopt;
        }
        return FieldValue{*p};
    }
};

}  // namespace berth::detail
