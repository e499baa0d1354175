// Fuzz target: the value grammars of SPEC §2 on any text.
// Property: whatever parses prints canonically, and the canonical text parses back to the same value (and prints
// the same again), for IpAddress, SocketAddr, IpMask, Duration, and the protocol, TLS version and cipher suite
// names in both surfaces' spellings. Whatever does not parse is refused with a known code of its grammar and a
// one-line message of bounded size. The first eight bytes also give a millisecond count, whose Duration must
// print and parse back.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "berth/model.hpp"
#include "fuzz_check.hpp"

namespace {

// quote_text() cuts echoed input at 64 bytes, so a message never needs to grow with the input.
constexpr std::size_t max_message_bytes = 1024;

void check_refusal(const berth::ValueError& error, std::string_view code_prefix, std::string_view text) {
    const std::string shown = error.code + ": " + error.message + " [hint: " + error.hint + "] for `" +
                              std::string(text.substr(0, 256)) + "`";
    BERTH_FUZZ_CHECK_DETAIL(error.code.starts_with(code_prefix), shown);
    // IpAddress's own code is not a diagnostic code: the surfaces report addresses as bind.* or ip-mask.*.
    BERTH_FUZZ_CHECK_DETAIL(error.code == "ip-address.invalid" || berth::is_known_diagnostic_code(error.code), shown);
    BERTH_FUZZ_CHECK_DETAIL(!error.message.empty(), shown);
    BERTH_FUZZ_CHECK_DETAIL(error.message.find('\n') == std::string::npos, shown);
    BERTH_FUZZ_CHECK_DETAIL(error.message.size() <= max_message_bytes && error.hint.size() <= max_message_bytes, shown);
}

/// parse(text) either fails with a code starting with `code_prefix`, or gives a value v with
/// parse(print(v)) == v and print(parse(print(v))) == print(v). Returns what parse(text) gave.
template <class Parse, class Print>
auto check_grammar(std::string_view text, Parse parse, Print print, std::string_view code_prefix) {
    auto parsed = parse(text);
    if (!parsed) {
        check_refusal(parsed.error(), code_prefix, text);
        return parsed;
    }
    const std::string canonical(print(*parsed));
    const auto again = parse(canonical);
    BERTH_FUZZ_CHECK_DETAIL(again.has_value(), "canonical `" + canonical + "` does not parse: " +
                                                   (again ? std::string() : again.error().message));
    BERTH_FUZZ_CHECK_DETAIL(*again == *parsed,
                            "`" + std::string(text) + "` -> `" + canonical + "` -> a different value");
    BERTH_FUZZ_CHECK_DETAIL(std::string(print(*again)) == canonical,
                            "`" + canonical + "` prints as `" + std::string(print(*again)) + "`");
    return parsed;
}

/// An enum name parsed in one surface's spelling must come back from both surfaces' canonical spellings.
template <class Parse, class OtherParse, class Print, class OtherPrint>
void check_spelling(std::string_view text, Parse parse, OtherParse other_parse, Print print, OtherPrint other_print,
                    std::string_view code) {
    const auto parsed = check_grammar(text, parse, print, code);
    if (!parsed) return;
    const auto other = other_parse(other_print(*parsed));
    BERTH_FUZZ_CHECK_DETAIL(other.has_value() && *other == *parsed,
                            "`" + std::string(text) + "` does not survive the other surface's spelling `" +
                                std::string(other_print(*parsed)) + "`");
}

void check_ip_mask(std::string_view text) {
    const auto mask = check_grammar(
        text, berth::IpMask::parse, [](const berth::IpMask& m) { return m.to_string(); }, "ip-mask.");
    if (!mask) return;
    // SPEC §2.3: the prefix is within 8..32 or 8..128, and an entry matches its own address.
    const unsigned full = mask->address().is_v4() ? 32 : 128;
    BERTH_FUZZ_CHECK_DETAIL(mask->prefix() >= 8 && mask->prefix() <= full, mask->to_string());
    BERTH_FUZZ_CHECK_DETAIL(!(mask->address().is_v4() && mask->address().is_unspecified()), mask->to_string());
    BERTH_FUZZ_CHECK_DETAIL(mask->matches(mask->address()), mask->to_string());
}

void check_milliseconds(const std::uint8_t* data, std::size_t size) {
    std::uint64_t milliseconds = 0;
    std::memcpy(&milliseconds, data, size < sizeof milliseconds ? size : sizeof milliseconds);
    const auto duration = berth::Duration::from_milliseconds(milliseconds);
    const auto parsed = berth::Duration::parse(duration.to_string());
    BERTH_FUZZ_CHECK_DETAIL(parsed.has_value() && parsed->milliseconds() == milliseconds,
                            std::to_string(milliseconds) + " ms prints as `" + duration.to_string() + "`");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const berth_fuzz::DocumentScope scope(text);
    using namespace berth;

    check_grammar(
        text, IpAddress::parse, [](const IpAddress& a) { return a.to_string(); }, "ip-address.");
    check_grammar(
        text, SocketAddr::parse, [](const SocketAddr& a) { return a.to_string(); }, "bind.");
    check_ip_mask(text);
    check_grammar(
        text, Duration::parse, [](const Duration& d) { return d.to_string(); }, "duration.");
    if (size > 0) check_milliseconds(data, size);

    const auto protocol_toml = [](Protocol p) { return toml_name(p); };
    const auto protocol_json = [](Protocol p) { return json_name(p); };
    check_spelling(text, parse_protocol_toml, parse_protocol_json, protocol_toml, protocol_json, "protocol.unknown");
    check_spelling(text, parse_protocol_json, parse_protocol_toml, protocol_json, protocol_toml, "protocol.unknown");

    const auto version_toml = [](TlsVersion v) { return toml_name(v); };
    const auto version_json = [](TlsVersion v) { return json_name(v); };
    check_spelling(text, parse_tls_version_toml, parse_tls_version_json, version_toml, version_json,
                   "tls.unknown-version");
    check_spelling(text, parse_tls_version_json, parse_tls_version_toml, version_json, version_toml,
                   "tls.unknown-version");

    const auto suite_toml = [](TlsCipherSuite c) { return toml_name(c); };
    const auto suite_json = [](TlsCipherSuite c) { return json_name(c); };
    check_spelling(text, parse_cipher_suite_toml, parse_cipher_suite_json, suite_toml, suite_json,
                   "tls.unknown-cipher");
    check_spelling(text, parse_cipher_suite_json, parse_cipher_suite_toml, suite_json, suite_toml,
                   "tls.unknown-cipher");
    return 0;
}
