// `berth conformance --impl 'CMD {file}'`: runs the conformance cases against any implementation
// of the SPEC §6 adapter contract and reports pass/fail per case.
#include <fnmatch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "cli.hpp"
#include "conformance_check.hpp"

namespace berth::cli {

namespace {
constexpr std::string_view usage_line =
    "berth conformance --impl 'CMD {file}' [--cases DIR] [--filter GLOB] [--check-warnings] [--check-codes] [--timeout S]";
constexpr std::string_view help_text = R"(berth conformance: check an implementation against the conformance suite

usage: berth conformance --impl 'CMD {file}' [--cases DIR] [--filter GLOB]
                         [--check-warnings] [--check-codes] [--timeout SECONDS]

--impl      the command that resolves one configuration, run by /bin/sh with {file} replaced by the
            case's input path; it must print the SPEC §6 JSON document and exit 0 (valid) or 1
            (invalid). berth's own adapter is: berth resolve {file}
--cases     the cases folder (default: conformance/cases, here or beside the berth executable)
--filter    only the cases whose name (e.g. grammar/socket-addr-v4) matches the shell glob
--check-warnings  also require the expected warnings (SPEC §6 makes them optional)
--check-codes     also require berth's diagnostic codes
--timeout   seconds per case (default 10)

Prints PASS or FAIL per case, with what differs; the last line is "N passed, N failed".
Exit status: 0 when no case failed, 1 otherwise, 2 on a usage error.
)";

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::filesystem::path default_cases_dir() {
    if (std::filesystem::is_directory("conformance/cases")) return "conformance/cases";
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
            if (std::filesystem::is_directory(dir / "conformance" / "cases")) return dir / "conformance" / "cases";
    }
    return "conformance/cases";
}

struct RunResult {
    int status = -1;
    std::string output;
};

RunResult run_case(const std::string& impl, const conformance::Case& c, int timeout_seconds) {
    std::string command = impl;
    for (std::size_t at; (at = command.find("{file}")) != std::string::npos;)
        command.replace(at, 6, shell_quote(c.input.string()));
    std::string env;
    if (c.expect.is_object() && c.expect.contains("env") && c.expect["env"].is_object())
        for (const auto& [k, v] : c.expect["env"].items()) {
            if (v.is_null()) env += " -u " + shell_quote(k);  // null: the variable must be unset
            else env += " " + shell_quote(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
        }
    const std::string full = "timeout " + std::to_string(timeout_seconds) + " env" + env + " /bin/sh -c " +
                             shell_quote(command) + " 2>/dev/null";
    RunResult r;
    std::FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
    const int raw = ::pclose(pipe);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return r;
}
}  // namespace

int conformance_main(const std::vector<std::string_view>& args) {
    std::optional<std::string> impl, filter;
    std::filesystem::path cases_dir = default_cases_dir();
    conformance::CheckOptions options;
    int timeout_seconds = 10;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        auto next = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            return std::string(args[++i]);
        };
        if (is_help(arg)) {
            std::fputs(help_text.data(), stdout);
            return Exit::ok;
        } else if (arg == "--impl") {
            if (!(impl = next())) return usage_error("conformance", "--impl needs a command", usage_line);
        } else if (arg == "--cases") {
            auto v = next();
            if (!v) return usage_error("conformance", "--cases needs a folder", usage_line);
            cases_dir = *v;
        } else if (arg == "--filter") {
            if (!(filter = next())) return usage_error("conformance", "--filter needs a glob", usage_line);
        } else if (arg == "--check-warnings") {
            options.warnings = true;
        } else if (arg == "--check-codes") {
            options.codes = true;
        } else if (arg == "--timeout") {
            auto v = next();
            if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos || v->size() > 4)
                return usage_error("conformance", "--timeout needs whole seconds", usage_line);
            timeout_seconds = std::max(1, std::stoi(*v));
        } else {
            return usage_error("conformance", "unknown argument " + std::string(arg), usage_line);
        }
    }
    if (!impl) return usage_error("conformance", "--impl is required", usage_line);
    if (impl->find("{file}") == std::string::npos)
        return usage_error("conformance", "--impl must contain {file}", usage_line);
    if (!std::filesystem::is_directory(cases_dir))
        return usage_error("conformance", "no cases folder " + cases_dir.string(), usage_line);

    std::size_t passed = 0, failed = 0;
    for (const auto& c : conformance::discover(cases_dir)) {
        if (filter && ::fnmatch(filter->c_str(), c.name.c_str(), 0) != 0) continue;
        const RunResult run = run_case(*impl, c, timeout_seconds);
        const auto verdict = conformance::judge(c, run.status, run.output, options);
        if (verdict.passed()) {
            ++passed;
            std::printf("PASS %s\n", c.name.c_str());
        } else {
            ++failed;
            std::printf("FAIL %s\n", c.name.c_str());
            if (c.expect.is_object() && c.expect.contains("checks") && c.expect["checks"].is_string())
                std::printf("  checks: %s\n", c.expect["checks"].get<std::string>().c_str());
            for (const auto& p : verdict.problems) std::printf("  - %s\n", p.c_str());
        }
    }
    std::printf("%zu passed, %zu failed\n", passed, failed);
    return failed == 0 ? Exit::ok : Exit::invalid;
}

}  // namespace berth::cli
