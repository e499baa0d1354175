// Micro-benchmarks of the model: reading and resolving a TOML configuration of N listeners next to a bare
// toml++ parse of the same text, and matching one peer against a trusted-network list of N entries.
// Targets and results: docs/performance.md.

#include <benchmark/benchmark.h>
#include <time.h>  // clock_gettime, CLOCK_THREAD_CPUTIME_ID (POSIX)

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/config/toml_safe.hpp"
#include "berth/model.hpp"
#include "generated_configuration.hpp"

namespace {

using berth::bench::configuration_text;
using berth::bench::fixed_resolve_options;

/// Checks once, outside the timed loop, that the configuration is what the benchmark claims to measure.
bool resolves_cleanly(const std::string& text, std::size_t listeners, benchmark::State& state) {
    const berth::Resolution resolution = berth::load(text, berth::Format::toml, {}, fixed_resolve_options());
    if (!resolution.diagnostics.empty()) {
        state.SkipWithError(("the generated configuration has diagnostics; first: " +
                             resolution.diagnostics.front().code + " at " + resolution.diagnostics.front().path)
                                .c_str());
        return false;
    }
    if (resolution.listeners.size() != listeners) {
        state.SkipWithError("the generated configuration did not resolve to one listener per table");
        return false;
    }
    return true;
}

void set_per_listener_counters(benchmark::State& state, std::size_t listeners) {
    state.SetComplexityN(static_cast<std::int64_t>(listeners));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(listeners));
}

void BM_TomlParse(benchmark::State& state) {
    const auto listeners = static_cast<std::size_t>(state.range(0));
    const std::string text = configuration_text(listeners);
    for (auto _ : state) {
        toml::parse_result parsed = toml::parse(text, std::string_view{"config.toml"});
        benchmark::DoNotOptimize(parsed);
    }
    set_per_listener_counters(state, listeners);
}

void BM_ReadAndResolve(benchmark::State& state) {
    const auto listeners = static_cast<std::size_t>(state.range(0));
    const std::string text = configuration_text(listeners);
    if (!resolves_cleanly(text, listeners, state)) return;
    const berth::ResolveOptions options = fixed_resolve_options();
    for (auto _ : state) {
        berth::Resolution resolution = berth::load(text, berth::Format::toml, {}, options);
        benchmark::DoNotOptimize(resolution);
    }
    set_per_listener_counters(state, listeners);
}

/// The CPU time of the calling thread: on a shared machine a wall clock also counts the time other
/// processes had the core, which is noise in both terms of a ratio.
std::chrono::nanoseconds thread_cpu_time() noexcept {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

/// Both in the same iteration, alternating which goes first, so that the ratio compares runs made under the
/// same conditions (caches, frequency, neighbours); separate benchmarks seconds apart do not. Each is timed
/// in thread CPU time. `ratio` is the median of the per-iteration ratios: on a shared machine an iteration
/// now and then runs slow (a neighbour's memory traffic, page faults after the allocator gave memory back
/// to the kernel), and the median is not moved by such outliers; `ratio_of_totals` divides the summed times.
void BM_ReadAndResolveOverTomlParse(benchmark::State& state) {
    const auto listeners = static_cast<std::size_t>(state.range(0));
    const std::string text = configuration_text(listeners);
    if (!resolves_cleanly(text, listeners, state)) return;
    const berth::ResolveOptions options = fixed_resolve_options();
    std::chrono::nanoseconds toml_total{};
    std::chrono::nanoseconds berth_total{};
    std::vector<double> ratios;
    bool toml_first = true;
    auto time_toml = [&] {
        const auto start = thread_cpu_time();
        toml::parse_result parsed = toml::parse(text, std::string_view{"config.toml"});
        benchmark::DoNotOptimize(parsed);
        return thread_cpu_time() - start;
    };
    auto time_berth = [&] {
        const auto start = thread_cpu_time();
        berth::Resolution resolution = berth::load(text, berth::Format::toml, {}, options);
        benchmark::DoNotOptimize(resolution);
        return thread_cpu_time() - start;
    };
    for (auto _ : state) {
        std::chrono::nanoseconds toml_time{};
        std::chrono::nanoseconds berth_time{};
        if (toml_first) {
            toml_time = time_toml();
            berth_time = time_berth();
        } else {
            berth_time = time_berth();
            toml_time = time_toml();
        }
        toml_first = !toml_first;
        toml_total += toml_time;
        berth_total += berth_time;
        if (toml_time.count() > 0)
            ratios.push_back(static_cast<double>(berth_time.count()) / static_cast<double>(toml_time.count()));
    }
    const double per_listener = static_cast<double>(state.iterations()) * static_cast<double>(listeners);
    const auto toml_ns = static_cast<double>(toml_total.count());
    const auto berth_ns = static_cast<double>(berth_total.count());
    if (!ratios.empty()) {
        const auto middle = ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2);
        std::nth_element(ratios.begin(), middle, ratios.end());
        state.counters["ratio"] = *middle;
    }
    state.counters["ratio_of_totals"] = toml_ns > 0 ? berth_ns / toml_ns : 0.0;
    state.counters["toml_ns_per_listener"] = toml_ns / per_listener;
    state.counters["berth_ns_per_listener"] = berth_ns / per_listener;
}

// 1, 100 and 10,000 are the sizes the targets speak of; 1,000 gives the complexity fit a fourth point.
BENCHMARK(BM_TomlParse)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
BENCHMARK(BM_ReadAndResolve)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->Complexity(benchmark::oN);
// At least 1 s each, so that even 10,000 listeners give the ratio several alternating pairs.
BENCHMARK(BM_ReadAndResolveOverTomlParse)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000)->MinTime(1.0)->Unit(benchmark::kMicrosecond);

/// `networks` trusted networks, alternately IPv4 /24 and IPv6 /48, none of which holds 192.0.2.7 or its
/// mapped form: the peer is compared with every entry, the worst case of the acceptor's first-match loop.
std::vector<berth::IpMask> trusted_networks(std::size_t networks) {
    std::vector<berth::IpMask> masks;
    masks.reserve(networks);
    for (std::size_t i = 0; i < networks; ++i) {
        const std::string text = i % 2 == 0 ? "10." + std::to_string(i / 2 / 256 % 256) + "." +
                                                  std::to_string(i / 2 % 256) + ".0/24"
                                            : "2001:db8:" + std::to_string(i % 10000) + "::/48";
        auto parsed = berth::IpMask::parse(text);
        if (parsed) masks.push_back(*parsed);
    }
    return masks;
}

/// The same loop as the acceptor's trust check: the first entry that matches wins.
bool is_trusted(const std::vector<berth::IpMask>& masks, const berth::IpAddress& peer) noexcept {
    return std::any_of(masks.begin(), masks.end(), [&](const berth::IpMask& m) { return m.matches(peer); });
}

void run_trust_check(benchmark::State& state, std::string_view peer_text) {
    const auto networks = static_cast<std::size_t>(state.range(0));
    const std::vector<berth::IpMask> masks = trusted_networks(networks);
    const auto peer = berth::IpAddress::parse(peer_text);
    if (masks.size() != networks || !peer) {
        state.SkipWithError("the trusted networks or the peer did not parse");
        return;
    }
    if (is_trusted(masks, *peer)) {
        state.SkipWithError("the peer matches an entry, so the loop would stop early");
        return;
    }
    for (auto _ : state) {
        bool trusted = is_trusted(masks, *peer);
        benchmark::DoNotOptimize(trusted);
    }
    state.SetComplexityN(static_cast<std::int64_t>(networks));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(networks));
}

void BM_TrustedNetworks_IPv4Peer(benchmark::State& state) { run_trust_check(state, "192.0.2.7"); }
/// What a dual-stack ([::]) listener sees for an IPv4 client.
void BM_TrustedNetworks_MappedIPv4Peer(benchmark::State& state) { run_trust_check(state, "::ffff:192.0.2.7"); }

BENCHMARK(BM_TrustedNetworks_IPv4Peer)->Arg(1)->Arg(10)->Arg(1000)->Complexity(benchmark::oN);
BENCHMARK(BM_TrustedNetworks_MappedIPv4Peer)->Arg(1)->Arg(10)->Arg(1000)->Complexity(benchmark::oN);

}  // namespace
