// Micro-benchmarks of the PROXY protocol parser (berth/net/proxy_protocol.hpp, pure and Asio-free): the time
// to parse one complete header of each common shape, in ns per header. Results: docs/performance.md.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "berth/net/proxy_protocol.hpp"

namespace {

/// A v2 header: signature, version 2 with `command`, `family_transport`, the body length, then `body`.
std::vector<std::uint8_t> v2_header(std::uint8_t command, std::uint8_t family_transport,
                                    const std::vector<std::uint8_t>& body) {
    std::vector<std::uint8_t> bytes(berth::proxy_v2_signature.begin(), berth::proxy_v2_signature.end());
    bytes.push_back(static_cast<std::uint8_t>(0x20 | command));
    bytes.push_back(family_transport);
    bytes.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    bytes.push_back(static_cast<std::uint8_t>(body.size() & 0xff));
    bytes.insert(bytes.end(), body.begin(), body.end());
    return bytes;
}

void append(std::vector<std::uint8_t>& bytes, std::initializer_list<std::uint8_t> more) {
    bytes.insert(bytes.end(), more.begin(), more.end());
}

/// One TLV: type, 16-bit length, value.
void append_tlv(std::vector<std::uint8_t>& bytes, std::uint8_t type, std::string_view value) {
    append(bytes, {type, static_cast<std::uint8_t>(value.size() >> 8), static_cast<std::uint8_t>(value.size() & 0xff)});
    bytes.insert(bytes.end(), value.begin(), value.end());
}

std::vector<std::uint8_t> v2_tcp4() {
    std::vector<std::uint8_t> body;
    append(body, {192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x00, 0x19});  // 192.0.2.1:56324 -> 198.51.100.2:25
    return v2_header(0x1, 0x11, body);
}

/// TCP over IPv6 with the TLVs a TLS-terminating proxy sends: ALPN, authority (SNI) and a unique id.
std::vector<std::uint8_t> v2_tcp6_with_tlvs() {
    std::vector<std::uint8_t> body;
    append(body, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});  // 2001:db8::1
    append(body, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02});  // 2001:db8::2
    append(body, {0xdc, 0x04, 0x01, 0xd1});                                           // 56324 -> 465
    append_tlv(body, 0x01, "smtp");
    append_tlv(body, 0x02, "mx.example.org");
    append_tlv(body, 0x05, "0123456789abcdef0123456789abcdef");
    return v2_header(0x1, 0x21, body);
}

std::vector<std::uint8_t> v2_local() { return v2_header(0x0, 0x00, {}); }

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

/// Parses `header` once per iteration; refuses to run unless it parses completely to its full length, so a
/// fast failure path can never pass for a fast parse.
void run_parse(benchmark::State& state, const std::vector<std::uint8_t>& header) {
    const std::span<const std::uint8_t> input(header);
    const berth::ProxyParseResult check = berth::parse_proxy_header(input);
    if (!check.complete() || check.consumed != header.size()) {
        state.SkipWithError("the benchmark's header does not parse completely");
        return;
    }
    for (auto _ : state) {
        berth::ProxyParseResult result = berth::parse_proxy_header(input);
        benchmark::DoNotOptimize(result);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(header.size()));
}

void BM_ProxyV1_TCP4(benchmark::State& state) {
    run_parse(state, bytes_of("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n"));
}
void BM_ProxyV1_TCP6(benchmark::State& state) {
    run_parse(state, bytes_of("PROXY TCP6 2001:db8::1 2001:db8:ffff:0:1:2:3:4 56324 465\r\n"));
}
void BM_ProxyV1_Unknown(benchmark::State& state) { run_parse(state, bytes_of("PROXY UNKNOWN\r\n")); }
void BM_ProxyV2_TCP4(benchmark::State& state) { run_parse(state, v2_tcp4()); }
void BM_ProxyV2_TCP6_TLVs(benchmark::State& state) { run_parse(state, v2_tcp6_with_tlvs()); }
void BM_ProxyV2_Local(benchmark::State& state) { run_parse(state, v2_local()); }

BENCHMARK(BM_ProxyV1_TCP4);
BENCHMARK(BM_ProxyV1_TCP6);
BENCHMARK(BM_ProxyV1_Unknown);
BENCHMARK(BM_ProxyV2_TCP4);
BENCHMARK(BM_ProxyV2_TCP6_TLVs);
BENCHMARK(BM_ProxyV2_Local);

}  // namespace
