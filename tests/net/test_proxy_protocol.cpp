#include <berth/net/proxy_protocol.hpp>  // first: the parser compiles on its own, without Asio

#include "support/catch.hpp"
#include "support/rapidcheck_catch.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace berth;

namespace {

using Bytes = std::vector<std::uint8_t>;

/// Parses `input` from an exactly sized heap copy, so AddressSanitizer reports any read past it.
ProxyParseResult parse(const Bytes& input, ProxyLimits limits = {}) {
    auto copy = std::make_unique<std::uint8_t[]>(input.size());
    std::copy(input.begin(), input.end(), copy.get());
    return parse_proxy_header(std::span<const std::uint8_t>(copy.get(), input.size()), limits);
}
ProxyParseResult parse(std::string_view text) { return parse(Bytes(text.begin(), text.end())); }

Bytes bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

/// A v2 header: signature, version 2 with `command`, `family_transport`, then `payload` (addresses and
/// TLVs), with the length field computed unless `length` is given.
Bytes v2(std::uint8_t command, std::uint8_t family_transport, const Bytes& payload,
         std::optional<std::uint16_t> length = std::nullopt) {
    Bytes out(proxy_v2_signature.begin(), proxy_v2_signature.end());
    out.push_back(static_cast<std::uint8_t>(0x20 | command));
    out.push_back(family_transport);
    const std::uint16_t n = length.value_or(static_cast<std::uint16_t>(payload.size()));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n & 0xFF));
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

Bytes inet_block(std::array<std::uint8_t, 4> source, std::array<std::uint8_t, 4> destination, std::uint16_t source_port,
                 std::uint16_t destination_port) {
    Bytes out;
    out.reserve(12);  // reserving first also keeps g++ 12's -Warray-bounds false positive away at -O2
    out.insert(out.end(), source.begin(), source.end());
    out.insert(out.end(), destination.begin(), destination.end());
    for (std::uint16_t port : {source_port, destination_port}) {
        out.push_back(static_cast<std::uint8_t>(port >> 8));
        out.push_back(static_cast<std::uint8_t>(port & 0xFF));
    }
    return out;
}

Bytes tlv(std::uint8_t type, std::string_view value) {
    Bytes out;
    out.reserve(3 + value.size());  // see inet_block
    out.push_back(type);
    out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(value.size() & 0xFF));
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

void require_every_prefix_needs_more(const Bytes& header) {
    for (std::size_t n = 0; n < header.size(); ++n) {
        INFO("prefix length " << n);
        REQUIRE(parse(Bytes(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n))).needs_more());
    }
}

}  // namespace

TEST_CASE("PROXY v1 TCP4: source, destination, and the bytes after the header left alone", "[net][proxy]") {
    const std::string header = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n";
    const auto result = parse(header + "EHLO client\r\n");
    REQUIRE(result.complete());
    CHECK(result.consumed == header.size());
    CHECK(result.header.version == ProxyVersion::v1);
    CHECK(result.header.command == ProxyCommand::proxy);
    CHECK(result.header.family == ProxyFamily::inet);
    CHECK(result.header.source->to_string() == "192.0.2.10:56324");
    CHECK(result.header.destination->to_string() == "198.51.100.1:25");
}

TEST_CASE("PROXY v1 TCP6", "[net][proxy]") {
    const auto result = parse("PROXY TCP6 2001:db8::7 2001:db8::1 40000 993\r\n");
    REQUIRE(result.complete());
    CHECK(result.header.family == ProxyFamily::inet6);
    CHECK(result.header.source->to_string() == "[2001:db8::7]:40000");
    CHECK(result.header.destination->to_string() == "[2001:db8::1]:993");
}

TEST_CASE("PROXY v1 UNKNOWN keeps the real peer and ignores the rest of the line", "[net][proxy]") {
    for (std::string_view line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
        INFO(line);
        const auto result = parse(line);
        REQUIRE(result.complete());
        CHECK(result.consumed == line.size());
        CHECK(result.header.family == ProxyFamily::unspecified);
        CHECK_FALSE(result.header.source);
    }
}

TEST_CASE("PROXY v1: the 107-byte limit, CRLF included", "[net][proxy]") {
    // "PROXY UNKNOWN " is 14 bytes; padding to 105 plus CRLF makes exactly 107.
    const std::string longest = "PROXY UNKNOWN " + std::string(105 - 14, 'x') + "\r\n";
    REQUIRE(longest.size() == proxy_v1_max_length);
    CHECK(parse(longest).complete());
    const std::string too_long = "PROXY UNKNOWN " + std::string(106 - 14, 'x') + "\r\n";
    CHECK(parse(too_long).error == ProxyError::v1_line_too_long);
    // Refused as soon as 107 bytes have arrived without CRLF, without waiting for more.
    CHECK(parse("PROXY UNKNOWN " + std::string(200, 'x')).error == ProxyError::v1_line_too_long);
    CHECK(parse("PROXY UNKNOWN " + std::string(92, 'x') + "\r").error == ProxyError::v1_line_too_long);
}

TEST_CASE("PROXY v1 malformed lines are errors with their reason", "[net][proxy]") {
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 56324\r\n").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP4 192.0.2.1  198.51.100.1 56324 25\r\n").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25 \r\n").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP4\r\n").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\n").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\rX").error == ProxyError::v1_malformed);
    CHECK(parse("PROXY TCP5 192.0.2.1 198.51.100.1 56324 25\r\n").error == ProxyError::v1_unknown_protocol);
    CHECK(parse("PROXY UNKNOWNX\r\n").error == ProxyError::v1_unknown_protocol);
    CHECK(parse("PROXY TCP4 2001:db8::1 198.51.100.1 56324 25\r\n").error == ProxyError::v1_bad_address);
    CHECK(parse("PROXY TCP6 192.0.2.1 2001:db8::1 56324 25\r\n").error == ProxyError::v1_bad_address);
    CHECK(parse("PROXY TCP4 192.0.2.01 198.51.100.1 56324 25\r\n").error == ProxyError::v1_bad_address);
    CHECK(parse("PROXY TCP4 mail.example 198.51.100.1 56324 25\r\n").error == ProxyError::v1_bad_address);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 65536 25\r\n").error == ProxyError::v1_bad_port);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 056324 25\r\n").error == ProxyError::v1_bad_port);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 -1 25\r\n").error == ProxyError::v1_bad_port);
    CHECK(parse("PROXY TCP4 192.0.2.1 198.51.100.1 0 65535\r\n").complete());
}

TEST_CASE("anything but `P` or CR first is not a PROXY header", "[net][proxy]") {
    CHECK(parse("EHLO client\r\n").error == ProxyError::not_a_proxy_header);
    CHECK(parse("GET / HTTP/1.1\r\n").error == ProxyError::not_a_proxy_header);
    CHECK(parse("PROXX TCP4").error == ProxyError::not_a_proxy_header);
    CHECK(parse("\r\nQUIT").error == ProxyError::not_a_proxy_header);
    CHECK(parse(Bytes{0x16, 0x03, 0x01}).error == ProxyError::not_a_proxy_header);  // a TLS ClientHello
    CHECK(parse("").needs_more());
}

TEST_CASE("PROXY v1 split anywhere needs more bytes, never an early answer", "[net][proxy]") {
    require_every_prefix_needs_more(bytes("PROXY TCP4 192.0.2.10 198.51.100.1 56324 25\r\n"));
    require_every_prefix_needs_more(bytes("PROXY TCP6 2001:db8::7 2001:db8::1 40000 993\r\n"));
    require_every_prefix_needs_more(bytes("PROXY UNKNOWN\r\n"));
}

TEST_CASE("PROXY v2 PROXY over INET and INET6", "[net][proxy]") {
    const Bytes header = v2(0x1, 0x11, inet_block({192, 0, 2, 10}, {198, 51, 100, 1}, 56324, 25));
    const auto result = parse(concat(header, bytes("EHLO")));
    REQUIRE(result.complete());
    CHECK(result.consumed == header.size());
    CHECK(result.header.version == ProxyVersion::v2);
    CHECK(result.header.command == ProxyCommand::proxy);
    CHECK(result.header.transport == ProxyTransport::stream);
    CHECK(result.header.source->to_string() == "192.0.2.10:56324");
    CHECK(result.header.destination->to_string() == "198.51.100.1:25");
    CHECK(result.header.tlv_bytes == 0);

    Bytes block6(36, 0);
    block6[0] = 0x20, block6[1] = 0x01, block6[2] = 0x0d, block6[3] = 0xb8, block6[15] = 0x07;   // 2001:db8::7
    block6[16] = 0x20, block6[17] = 0x01, block6[18] = 0x0d, block6[19] = 0xb8, block6[31] = 0x01;
    block6[32] = 0x9c, block6[33] = 0x40, block6[34] = 0x03, block6[35] = 0xe1;  // 40000, 993
    const auto result6 = parse(v2(0x1, 0x21, block6));
    REQUIRE(result6.complete());
    CHECK(result6.header.source->to_string() == "[2001:db8::7]:40000");
    CHECK(result6.header.destination->to_string() == "[2001:db8::1]:993");
}

TEST_CASE("PROXY v2 LOCAL, UNSPEC, UNIX and DGRAM keep the real peer", "[net][proxy]") {
    const auto local = parse(v2(0x0, 0x00, {}));
    REQUIRE(local.complete());
    CHECK(local.header.command == ProxyCommand::local);
    CHECK_FALSE(local.header.source);
    CHECK(local.consumed == 16);

    const auto local_with_addresses = parse(v2(0x0, 0x11, inet_block({10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2)));
    REQUIRE(local_with_addresses.complete());
    CHECK_FALSE(local_with_addresses.header.source);

    const auto unspecified = parse(v2(0x1, 0x00, Bytes(7, 0xAB)));  // UNSPEC bytes are not TLVs
    REQUIRE(unspecified.complete());
    CHECK(unspecified.consumed == 23);
    CHECK_FALSE(unspecified.header.source);

    CHECK_FALSE(parse(v2(0x1, 0x31, Bytes(216, 0))).header.source);  // AF_UNIX
    CHECK(parse(v2(0x1, 0x31, Bytes(216, 0))).complete());
    const auto datagram = parse(v2(0x1, 0x12, inet_block({10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2)));
    REQUIRE(datagram.complete());
    CHECK_FALSE(datagram.header.source);
}

TEST_CASE("PROXY v2 TLVs are skipped but must tile the header exactly", "[net][proxy]") {
    const Bytes addresses = inet_block({192, 0, 2, 10}, {198, 51, 100, 1}, 56324, 25);
    Bytes tlvs = concat(tlv(0x01, "smtp"), tlv(0x02, "mx.example"));  // ALPN, AUTHORITY
    tlvs = concat(tlvs, tlv(0x04, ""));                                // NOOP, empty
    const auto result = parse(v2(0x1, 0x11, concat(addresses, tlvs)));
    REQUIRE(result.complete());
    CHECK(result.header.tlv_bytes == tlvs.size());
    CHECK(result.header.source->to_string() == "192.0.2.10:56324");

    Bytes overrun = tlv(0x02, "mx.example");
    overrun[2] = 11;  // claims one byte more than there is
    CHECK(parse(v2(0x1, 0x11, concat(addresses, overrun))).error == ProxyError::v2_bad_tlv);
    CHECK(parse(v2(0x1, 0x11, concat(addresses, Bytes{0x01, 0x00}))).error == ProxyError::v2_bad_tlv);
    CHECK(parse(v2(0x0, 0x21, concat(Bytes(36, 0), Bytes{0x05}))).error == ProxyError::v2_bad_tlv);
}

TEST_CASE("PROXY v2 field errors are reported as soon as the field arrives", "[net][proxy]") {
    Bytes bad_version(proxy_v2_signature.begin(), proxy_v2_signature.end());
    bad_version.push_back(0x11);
    CHECK(parse(bad_version).error == ProxyError::v2_bad_version);
    Bytes bad_command(proxy_v2_signature.begin(), proxy_v2_signature.end());
    bad_command.push_back(0x22);
    CHECK(parse(bad_command).error == ProxyError::v2_bad_command);
    CHECK(parse(v2(0x1, 0x41, {})).error == ProxyError::v2_bad_family);
    CHECK(parse(v2(0x1, 0x13, {})).error == ProxyError::v2_bad_family);
    CHECK(parse(v2(0x1, 0x11, Bytes(8, 0))).error == ProxyError::v2_address_block_truncated);
    CHECK(parse(v2(0x1, 0x21, Bytes(12, 0))).error == ProxyError::v2_address_block_truncated);
    Bytes wrong_signature(proxy_v2_signature.begin(), proxy_v2_signature.begin() + 6);
    wrong_signature.push_back(0x00);
    CHECK(parse(wrong_signature).error == ProxyError::not_a_proxy_header);
}

TEST_CASE("PROXY v2 header size is bounded by the receiver's limit", "[net][proxy]") {
    // Only the 16 fixed bytes have arrived: a length over the limit is refused at once.
    const Bytes announced = v2(0x1, 0x11, {}, std::uint16_t{2000});
    CHECK(parse(announced).error == ProxyError::v2_header_too_large);
    const Bytes big = v2(0x1, 0x11, concat(inet_block({1, 2, 3, 4}, {5, 6, 7, 8}, 1, 2), tlv(0x04, std::string(500, 'n'))));
    CHECK(parse(big, ProxyLimits{512}).error == ProxyError::v2_header_too_large);
    CHECK(parse(big, ProxyLimits{1024}).complete());
}

TEST_CASE("PROXY v2 split anywhere needs more bytes", "[net][proxy]") {
    require_every_prefix_needs_more(
        v2(0x1, 0x11, concat(inet_block({192, 0, 2, 10}, {198, 51, 100, 1}, 56324, 25), tlv(0x01, "imap"))));
    require_every_prefix_needs_more(v2(0x0, 0x00, {}));
}

TEST_CASE("describe names every PROXY error", "[net][proxy]") {
    for (int e = 0; e <= static_cast<int>(ProxyError::v2_bad_tlv); ++e)
        CHECK(describe(static_cast<ProxyError>(e)).find("PROXY") != std::string_view::npos);
}

TEST_CASE("PROXY parser properties", "[net][proxy][prop]") {
    rc::prop("any bytes: an answer, and a complete header never claims more than its input", [](const Bytes& input) {
        const auto result = parse(input);
        if (result.complete()) RC_ASSERT(result.consumed <= input.size());
        if (!input.empty() && input[0] != 'P' && input[0] != '\r') RC_ASSERT(result.failed());
    });

    rc::prop("a generated v1 header is parsed back, whatever follows it", [](std::array<std::uint8_t, 4> source,
                                                                           std::uint16_t source_port,
                                                                           std::uint16_t destination_port,
                                                                           const Bytes& tail) {
        const auto address = IpAddress::v4(source).to_string();
        const std::string header = "PROXY TCP4 " + address + " 203.0.113.5 " + std::to_string(source_port) + " " +
                                   std::to_string(destination_port) + "\r\n";
        const auto result = parse(concat(bytes(header), tail));
        RC_ASSERT(result.complete());
        RC_ASSERT(result.consumed == header.size());
        RC_ASSERT(result.header.source->to_string() == address + ":" + std::to_string(source_port));
        RC_ASSERT(result.header.destination->port() == destination_port);
    });

    rc::prop("a generated v2 header is parsed back, and every prefix of it needs more",
             [](std::array<std::uint8_t, 16> source, std::uint16_t port, const std::string& authority) {
                 Bytes block(source.begin(), source.end());
                 block.resize(32, 0x01);
                 block.push_back(static_cast<std::uint8_t>(port >> 8));
                 block.push_back(static_cast<std::uint8_t>(port & 0xFF));
                 block.push_back(0x00);
                 block.push_back(0x19);
                 const Bytes header = v2(0x1, 0x21, concat(block, tlv(0x02, authority.substr(0, 200))));
                 const auto result = parse(concat(header, bytes("trailing")));
                 RC_ASSERT(result.complete());
                 RC_ASSERT(result.consumed == header.size());
                 RC_ASSERT(result.header.source->address().v6_bytes() == source);
                 RC_ASSERT(result.header.source->port() == port);
                 for (std::size_t n = 0; n < header.size(); ++n)
                     RC_ASSERT(parse(Bytes(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n))).needs_more());
             });
}
