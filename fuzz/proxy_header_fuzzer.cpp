// Fuzz target: the PROXY protocol parser (net/proxy_protocol.hpp) on any bytes, as the acceptor feeds it.
// Properties:
//   - it reads nothing past the input (every parse gets an exactly sized copy, so AddressSanitizer sees it) and
//     never claims more bytes than it was given: v1 at most 107, v2 at least 16 and at most the receiver's limit;
//   - feeding it a prefix never contradicts the whole: a complete header is "need more" on every shorter prefix,
//     and the same header with the same length when followed by any other bytes;
//   - a complete header is consistent: addresses exactly for a TCP PROXY connection, of the header's family;
//   - a v1 header re-encoded as v2 (and a v2 TCP header re-encoded as v1) by the tiny encoders below decodes to
//     the same addresses.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "berth/model/ip_address.hpp"
#include "berth/model/socket_addr.hpp"
#include "berth/net/proxy_protocol.hpp"
#include "fuzz_check.hpp"

namespace {

using berth::ProxyCommand;
using berth::ProxyFamily;
using berth::ProxyHeader;
using berth::ProxyParseResult;
using berth::ProxyTransport;
using berth::ProxyVersion;

std::string describe(const ProxyParseResult& r) {
    if (r.needs_more()) return "need more";
    if (r.failed()) return "error: " + std::string(berth::describe(r.error));
    const auto& h = r.header;
    std::string out = "complete v" + std::to_string(static_cast<int>(h.version)) + ", " + std::to_string(r.consumed) +
                      " bytes, family " + std::to_string(static_cast<int>(h.family)) + ", transport " +
                      std::to_string(static_cast<int>(h.transport)) + ", command " +
                      std::to_string(static_cast<int>(h.command));
    if (h.source) out += ", " + h.source->to_string();
    if (h.destination) out += " -> " + h.destination->to_string();
    return out;
}

/// Parses `bytes[0, size)` from a heap copy of exactly that size, so any read past it is an ASan report.
ProxyParseResult parse_exact(const std::uint8_t* bytes, std::size_t size, const berth::ProxyLimits& limits) {
    std::unique_ptr<std::uint8_t[]> copy(size ? new std::uint8_t[size] : nullptr);
    if (size) std::memcpy(copy.get(), bytes, size);
    return berth::parse_proxy_header(std::span<const std::uint8_t>(copy.get(), size), limits);
}

ProxyParseResult parse_exact(const std::vector<std::uint8_t>& bytes, const berth::ProxyLimits& limits = {}) {
    return parse_exact(bytes.data(), bytes.size(), limits);
}

bool same_header(const ProxyParseResult& a, const ProxyParseResult& b) {
    return a.complete() && b.complete() && a.consumed == b.consumed && a.header == b.header;
}

void put_be16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

/// The v2 form of a header: PROXY over STREAM with its addresses, or (no addresses) PROXY with family UNSPEC.
std::vector<std::uint8_t> encode_v2(const ProxyHeader& h) {
    std::vector<std::uint8_t> out(berth::proxy_v2_signature.begin(), berth::proxy_v2_signature.end());
    out.push_back(0x21);  // version 2, command PROXY
    std::vector<std::uint8_t> addresses;
    ProxyFamily family = ProxyFamily::unspecified;
    ProxyTransport transport = ProxyTransport::unspecified;
    if (h.source && h.destination) {
        family = h.source->address().is_v4() ? ProxyFamily::inet : ProxyFamily::inet6;
        transport = ProxyTransport::stream;
        for (const auto* a : {&*h.source, &*h.destination}) {
            if (family == ProxyFamily::inet)
                for (auto byte : a->address().v4_bytes()) addresses.push_back(byte);
            else
                for (auto byte : a->address().v6_bytes()) addresses.push_back(byte);
        }
        put_be16(addresses, h.source->port());
        put_be16(addresses, h.destination->port());
    }
    out.push_back(static_cast<std::uint8_t>((static_cast<unsigned>(family) << 4) | static_cast<unsigned>(transport)));
    put_be16(out, static_cast<std::uint16_t>(addresses.size()));
    out.insert(out.end(), addresses.begin(), addresses.end());
    return out;
}

/// The v1 line of a TCP header.
std::vector<std::uint8_t> encode_v1(const ProxyHeader& h) {
    const bool v4 = h.source->address().is_v4();
    const std::string line = std::string("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + h.source->address().to_string() + " " +
                             h.destination->address().to_string() + " " + std::to_string(h.source->port()) + " " +
                             std::to_string(h.destination->port()) + "\r\n";
    return std::vector<std::uint8_t>(line.begin(), line.end());
}

void check_complete(const ProxyParseResult& r, std::size_t size, const berth::ProxyLimits& limits) {
    const ProxyHeader& h = r.header;
    const std::string shown = describe(r);
    BERTH_FUZZ_CHECK_DETAIL(r.consumed >= 1 && r.consumed <= size, shown + " from " + std::to_string(size));
    if (h.version == ProxyVersion::v1) {
        BERTH_FUZZ_CHECK_DETAIL(r.consumed <= berth::proxy_v1_max_length, shown);
        BERTH_FUZZ_CHECK_DETAIL(h.command == ProxyCommand::proxy && h.tlv_bytes == 0, shown);
    } else {
        BERTH_FUZZ_CHECK_DETAIL(h.version == ProxyVersion::v2, shown);
        BERTH_FUZZ_CHECK_DETAIL(r.consumed >= berth::proxy_v2_fixed_length && r.consumed <= limits.max_v2_header_size,
                                shown);
        BERTH_FUZZ_CHECK_DETAIL(h.tlv_bytes <= r.consumed - berth::proxy_v2_fixed_length, shown);
    }
    const bool tcp = h.command == ProxyCommand::proxy && h.transport == ProxyTransport::stream &&
                     (h.family == ProxyFamily::inet || h.family == ProxyFamily::inet6);
    BERTH_FUZZ_CHECK_DETAIL(h.source.has_value() == tcp && h.destination.has_value() == tcp, shown);
    if (tcp) {
        const bool v4 = h.family == ProxyFamily::inet;
        BERTH_FUZZ_CHECK_DETAIL(h.source->address().is_v4() == v4 && h.destination->address().is_v4() == v4, shown);
        BERTH_FUZZ_CHECK_DETAIL(h.source->address().scope_id() == 0 && h.destination->address().scope_id() == 0, shown);
    }
}

/// Re-encoded in the other version, the header decodes to the same connection.
void check_reencoding(const ProxyParseResult& r) {
    const ProxyHeader& h = r.header;
    if (h.version == ProxyVersion::v1) {
        const std::vector<std::uint8_t> v2 = encode_v2(h);
        const ProxyParseResult again = parse_exact(v2);
        BERTH_FUZZ_CHECK_DETAIL(again.complete() && again.consumed == v2.size(),
                                describe(r) + " re-encoded as v2 gives " + describe(again));
        BERTH_FUZZ_CHECK_DETAIL(again.header.source == h.source && again.header.destination == h.destination,
                                describe(r) + " re-encoded as v2 gives " + describe(again));
        BERTH_FUZZ_CHECK_DETAIL(again.header.family == h.family && again.header.command == ProxyCommand::proxy,
                                describe(r) + " re-encoded as v2 gives " + describe(again));
    } else if (h.source && h.destination) {
        const std::vector<std::uint8_t> v1 = encode_v1(h);
        const ProxyParseResult again = parse_exact(v1);
        BERTH_FUZZ_CHECK_DETAIL(again.complete() && again.consumed == v1.size(),
                                describe(r) + " re-encoded as v1 gives " + describe(again));
        BERTH_FUZZ_CHECK_DETAIL(again.header.source == h.source && again.header.destination == h.destination,
                                describe(r) + " re-encoded as v1 gives " + describe(again));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The receiver's v2 limit comes from the last byte when there is one, so small limits are fuzzed too.
    berth::ProxyLimits limits;
    if (size > 0 && (data[size - 1] & 0x80) != 0) limits.max_v2_header_size = 16 + (data[size - 1] & 0x7f) * 4;

    const ProxyParseResult whole = parse_exact(data, size, limits);
    if (whole.failed()) {
        BERTH_FUZZ_CHECK(!berth::describe(whole.error).empty());
        // A prefix that completed would have completed the whole input too.
        for (std::size_t cut : {size / 2, size > 0 ? size - 1 : 0}) {
            const ProxyParseResult part = parse_exact(data, cut, limits);
            BERTH_FUZZ_CHECK_DETAIL(!part.complete(), "a prefix of " + std::to_string(cut) + " bytes is " +
                                                          describe(part) + ", the whole input " + describe(whole));
        }
        return 0;
    }
    if (whole.needs_more()) {
        for (std::size_t cut : {size / 2, size > 0 ? size - 1 : 0}) {
            const ProxyParseResult part = parse_exact(data, cut, limits);
            BERTH_FUZZ_CHECK_DETAIL(part.needs_more(), "a prefix of " + std::to_string(cut) + " bytes is " +
                                                           describe(part) + ", the whole input needs more");
        }
        return 0;
    }

    check_complete(whole, size, limits);
    // The header alone parses the same; one byte less is not enough; the bytes after it do not matter.
    const ProxyParseResult exact = parse_exact(data, whole.consumed, limits);
    BERTH_FUZZ_CHECK_DETAIL(same_header(whole, exact), describe(whole) + " but alone " + describe(exact));
    for (std::size_t cut : {whole.consumed / 2, whole.consumed - 1}) {
        const ProxyParseResult part = parse_exact(data, cut, limits);
        BERTH_FUZZ_CHECK_DETAIL(part.needs_more(),
                                describe(whole) + " but its first " + std::to_string(cut) + " bytes " + describe(part));
    }
    std::vector<std::uint8_t> followed(data, data + whole.consumed);
    followed.insert(followed.end(), {'E', 'H', 'L', 'O', ' ', 'x', '\r', '\n'});
    const ProxyParseResult with_payload = parse_exact(followed, limits);
    BERTH_FUZZ_CHECK_DETAIL(same_header(whole, with_payload),
                            describe(whole) + " but followed by a command " + describe(with_payload));
    check_reencoding(whole);
    return 0;
}
