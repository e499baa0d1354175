#pragma once
// What the load tool reads about the server under test, from Linux's /proc: its CPU time (user + system, all
// threads) and its resident set size. Two samples, before and after a load phase, give the server's CPU per
// connection and its memory per idle connection without relying on the client's speed, which on a small
// machine is the bottleneck.
//
// CPU time comes two ways. utime + stime in /proc/PID/stat count every thread, exited ones included, but in
// clock ticks (10 ms): a 3-second run at 30% of a core is about 90 ticks, so one tick is 1%. The run time in
// /proc/PID/task/*/schedstat is the same quantity (the kernel scales utime + stime to it) in nanoseconds, but
// only for the threads alive at the moment of the sample; it is exact when the thread set did not change.

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace berth_load {

struct ProcessSample {
    std::uint64_t cpu_ticks = 0;  ///< utime + stime of every thread, in sysconf(_SC_CLK_TCK) units
    std::uint64_t rss_kib = 0;    ///< VmRSS
    std::optional<std::uint64_t> run_ns;  ///< sum of the live threads' schedstat run time, when readable
    std::vector<long> threads;            ///< the live threads' ids, sorted: run_ns compares only if equal

    [[nodiscard]] static double seconds_per_tick() { return 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK)); }
};

/// The server's CPU seconds between two samples, and whether they are exact (schedstat, same threads) or
/// counted in ticks.
struct CpuBetween {
    double seconds = 0;
    std::uint64_t ticks = 0;
    bool exact = false;
};

inline CpuBetween cpu_between(const ProcessSample& before, const ProcessSample& after) {
    CpuBetween cpu;
    cpu.ticks = after.cpu_ticks - before.cpu_ticks;
    if (before.run_ns && after.run_ns && before.threads == after.threads) {
        cpu.seconds = static_cast<double>(*after.run_ns - *before.run_ns) / 1e9;
        cpu.exact = true;
    } else {
        cpu.seconds = static_cast<double>(cpu.ticks) * ProcessSample::seconds_per_tick();
    }
    return cpu;
}

namespace detail {

inline std::optional<std::uint64_t> leading_number(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    return value;
}

inline std::string read_whole(const std::string& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

/// The live threads' ids and the sum of their run times; empty if any thread's schedstat was unreadable
/// (for example when it exited between the listing and the read).
inline std::optional<std::uint64_t> thread_run_time(const std::string& base, std::vector<long>& threads) {
    std::error_code error;
    std::uint64_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(base + "/task", error)) {
        const std::string name = entry.path().filename().string();
        long id = 0;
        if (std::from_chars(name.data(), name.data() + name.size(), id).ec != std::errc{}) return std::nullopt;
        const auto run = leading_number(read_whole(entry.path().string() + "/schedstat"));
        if (!run) return std::nullopt;
        total += *run;
        threads.push_back(id);
    }
    if (error || threads.empty()) return std::nullopt;
    std::sort(threads.begin(), threads.end());
    return total;
}

}  // namespace detail

/// Empty when the process is gone, is a zombie (no VmRSS), or /proc is not readable.
inline std::optional<ProcessSample> sample_process(long pid) {
    const std::string base = "/proc/" + std::to_string(pid);
    const std::string stat = detail::read_whole(base + "/stat");
    // The command name (field 2) is in parentheses and may hold spaces or parentheses: count the fields
    // after the last ')'. Field 3 is the state; utime and stime are fields 14 and 15.
    const auto name_end = stat.rfind(')');
    if (name_end == std::string::npos) return std::nullopt;
    std::string_view rest = std::string_view(stat).substr(name_end + 1);
    ProcessSample sample;
    for (int number = 3; number <= 15; ++number) {
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        const std::size_t end = rest.find(' ');
        const std::string_view field = rest.substr(0, end);
        if (field.empty()) return std::nullopt;
        if (number >= 14) {
            const auto ticks = detail::leading_number(field);
            if (!ticks) return std::nullopt;
            sample.cpu_ticks += *ticks;
        }
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }

    const std::string status = detail::read_whole(base + "/status");
    const auto at = status.find("\nVmRSS:");
    if (at == std::string::npos) return std::nullopt;
    const auto rss = detail::leading_number(std::string_view(status).substr(at + 7));
    if (!rss) return std::nullopt;
    sample.rss_kib = *rss;
    sample.run_ns = detail::thread_run_time(base, sample.threads);
    return sample;
}

}  // namespace berth_load
