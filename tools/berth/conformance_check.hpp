#pragma once
// The conformance suite's judgement of one case: an implementation's §6 output and exit status
// against the case's expectations (conformance/README.md describes the case format). Shared by
// `berth conformance` and the Catch2 conformance tests, so both judge alike.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::conformance {

struct Case {
    std::string name;                ///< relative to the cases folder, without extension: "grammar/socket-addr-v4"
    std::filesystem::path input;     ///< the .toml or .json file
    nlohmann::json expect;           ///< the parsed .expect.json
};

struct CheckOptions {
    bool warnings = false;  ///< also require the expected warning paths (optional in SPEC §6)
    bool codes = false;     ///< also require berth's diagnostic codes
};

struct Verdict {
    std::vector<std::string> problems;  ///< empty when the case passed
    [[nodiscard]] bool passed() const noexcept { return problems.empty(); }
};

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every case under `root` (recursively), sorted by name. A case whose expect file is unreadable is
/// returned with an empty expectation, which then fails with a clear reason.
inline std::vector<Case> discover(const std::filesystem::path& root) {
    std::vector<Case> cases;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        const auto& path = it->path();
        const std::string file = path.filename().string();
        if (file.ends_with(".expect.json")) continue;
        if (path.extension() != ".toml" && path.extension() != ".json") continue;
        Case c;
        c.input = path;
        c.name = std::filesystem::relative(path, root).replace_extension().generic_string();
        auto expect_path = path;
        expect_path.replace_extension(".expect.json");
        c.expect = nlohmann::json::parse(read_text(expect_path), nullptr, false);
        cases.push_back(std::move(c));
    }
    std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
    return cases;
}

namespace detail {

inline std::string brief(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline bool has_diagnostic(const nlohmann::json& diagnostics, const std::string& severity, const std::string& path,
                           const std::string* code = nullptr) {
    for (const auto& d : diagnostics) {
        if (!d.is_object()) continue;
        if (d.value("severity", "") != severity || d.value("path", "") != path) continue;
        if (code && d.value("code", "") != *code) continue;
        return true;
    }
    return false;
}

inline std::string reported(const nlohmann::json& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) {
        if (!d.is_object()) continue;
        out += "\n      " + d.value("severity", "?") + " " + d.value("path", "?") + " [" + d.value("code", "?") +
               "] " + d.value("message", "");
    }
    return out.empty() ? " (none)" : out;
}

}  // namespace detail

/// Judges one run: `exit_status` and `output` (the implementation's standard output).
inline Verdict judge(const Case& c, int exit_status, const std::string& output, const CheckOptions& options) {
    Verdict v;
    const auto& e = c.expect;
    if (!e.is_object() || !e.contains("valid") || !e["valid"].is_boolean()) {
        v.problems.push_back("the case's .expect.json is missing or has no boolean \"valid\"");
        return v;
    }
    static constexpr std::string_view known_keys[] = {"checks", "valid", "listeners", "exactListeners", "errors",
                                                       "warnings", "noWarnings", "codes", "env"};
    for (const auto& [key, value] : e.items())
        if (std::find(std::begin(known_keys), std::end(known_keys), key) == std::end(known_keys))
            v.problems.push_back("the case's .expect.json has an unknown key \"" + key + "\"");
    const bool valid = e["valid"].get<bool>();
    if (exit_status != (valid ? 0 : 1))
        v.problems.push_back("exit status " + std::to_string(exit_status) + ", expected " + (valid ? "0 (valid)" : "1 (invalid)"));
    const auto doc = nlohmann::json::parse(output, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        v.problems.push_back("standard output is not a JSON object: " + output.substr(0, 200));
        return v;
    }
    const auto listeners = doc.value("listeners", nlohmann::json::array());
    const auto diagnostics = doc.value("diagnostics", nlohmann::json::array());
    auto find = [&](const std::string& name) -> const nlohmann::json* {
        for (const auto& l : listeners)
            if (l.is_object() && l.value("name", "") == name) return &l;
        return nullptr;
    };
    if (e.contains("listeners") && e["listeners"].is_object()) {
        for (const auto& [name, fields] : e["listeners"].items()) {
            const auto* actual = find(name);
            if (!actual) {
                v.problems.push_back("listener \"" + name + "\" is missing from the output");
                continue;
            }
            for (const auto& [field, value] : fields.items()) {
                if (!actual->contains(field))
                    v.problems.push_back("listener \"" + name + "\": " + field + " is missing, expected " + detail::brief(value));
                else if ((*actual)[field] != value)
                    v.problems.push_back("listener \"" + name + "\": " + field + ": expected " + detail::brief(value) +
                                         ", got " + detail::brief((*actual)[field]));
            }
        }
        if (e.value("exactListeners", false)) {
            for (const auto& l : listeners) {
                const std::string name = l.is_object() ? l.value("name", "") : "";
                if (!e["listeners"].contains(name)) v.problems.push_back("unexpected listener \"" + name + "\"");
            }
        }
    }
    if (valid)
        for (const auto& d : diagnostics)
            if (d.is_object() && d.value("severity", "") == "error")
                v.problems.push_back("a valid case reported an error at \"" + d.value("path", "") + "\": " +
                                     d.value("message", ""));
    if (!valid && e.value("errors", nlohmann::json::array()).empty())
        v.problems.push_back("an invalid case must name at least one error path");
    for (const auto& path : e.value("errors", nlohmann::json::array()))
        if (path.is_string() && !detail::has_diagnostic(diagnostics, "error", path.get<std::string>()))
            v.problems.push_back("no error at path \"" + path.get<std::string>() + "\"; reported:" + detail::reported(diagnostics));
    if (options.warnings)
        for (const auto& path : e.value("warnings", nlohmann::json::array()))
            if (path.is_string() && !detail::has_diagnostic(diagnostics, "warning", path.get<std::string>()))
                v.problems.push_back("no warning at path \"" + path.get<std::string>() + "\"; reported:" +
                                     detail::reported(diagnostics));
    if (options.warnings)
        for (const auto& path : e.value("noWarnings", nlohmann::json::array())) {
            if (!path.is_string()) continue;
            const std::string p = path.get<std::string>();
            for (const auto& d : diagnostics) {
                if (!d.is_object() || d.value("severity", "") != "warning") continue;
                const std::string at = d.value("path", "");
                // The path itself, or anything under it (a key below, or an element of a list).
                if (at == p || at.starts_with(p + ".") || at.starts_with(p + "[") || at.starts_with(p + "/"))
                    v.problems.push_back("unexpected warning at \"" + at + "\": " + d.value("message", ""));
            }
        }
    if (options.codes && e.contains("codes") && e["codes"].is_object())
        for (const auto& [path, code] : e["codes"].items()) {
            const std::string want = code.is_string() ? code.get<std::string>() : "";
            if (!detail::has_diagnostic(diagnostics, "error", path, &want) &&
                !detail::has_diagnostic(diagnostics, "warning", path, &want))
                v.problems.push_back("no diagnostic with code " + want + " at path \"" + path + "\"; reported:" +
                                     detail::reported(diagnostics));
        }
    return v;
}

}  // namespace berth::conformance
