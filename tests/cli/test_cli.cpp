// The berth command-line tool, run as a user runs it: exit statuses, output formats, help, bad input.
#include <sys/wait.h>
#include <unistd.h>

#include "support/catch.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#ifndef BERTH_CLI_PATH
#error "BERTH_CLI_PATH must name the berth executable (the tests CMake defines it)"
#endif

namespace {

struct Run {
    int status = -1;      ///< exit status, or -1 when killed by a signal
    std::string output;   ///< standard output (and standard error when asked)
};

/// Runs berth with arguments through the shell, bounded by `timeout`, never waiting forever.
Run berth(const std::string& args, bool with_stderr = false) {
    const std::string command = "timeout 60 " + std::string(BERTH_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
    Run r;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
    const int raw = ::pclose(pipe);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return r;
}

/// A file in a fresh temporary folder, removed with the folder at exit.
std::string temp_file(const std::string& name, const std::string& content) {
    static const auto dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("berth-cli-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("berth-cli-" + std::to_string(::getpid())), ec);
        });
        return d;
    }();
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
}

const std::string valid_toml = R"([server.listener."submissions"]
bind = ["127.0.0.1:4465"]
protocol = "smtp"
tls.implicit = true
max-connections = 1024

[server.socket]
backlog = 512
)";

const std::string seed_with_missing_port = R"([server.listener."smtp"]
bind = ["192.0.2.1:25", "203.0.113.9:25", "2001:db8::2"]
protocol = "smtp"
)";

}  // namespace

TEST_CASE("berth check: exit 0 valid, 1 invalid, 2 usage; compiler-style lines with the hint", "[cli]") {
    const auto ok = berth("check " + temp_file("ok.toml", valid_toml));
    CHECK(ok.status == 0);
    CHECK(ok.output.find("valid") != std::string::npos);

    const auto file = temp_file("seed.toml", seed_with_missing_port);
    const auto bad = berth("check " + file);
    CHECK(bad.status == 1);
    CHECK(bad.output.find(file + ":2:43: error[bind.missing-port]: server.listener.smtp.bind[2]: ") == 0);
    CHECK(bad.output.find("\n  hint: ") != std::string::npos);
    CHECK(bad.output.find("[2001:db8::2]:PORT") != std::string::npos);
    CHECK(bad.output.find("\033[") == std::string::npos);  // no colour on a pipe

    CHECK(berth("check").status == 2);
    CHECK(berth("check --bogus x").status == 2);
    CHECK(berth("check /nonexistent/berth.toml").status == 2);
    CHECK(berth("frobnicate").status == 2);
}

TEST_CASE("every command has --help", "[cli]") {
    for (const char* command : {"check", "explain", "resolve", "convert", "conformance"}) {
        INFO(command);
        const auto r = berth(std::string(command) + " --help");
        CHECK(r.status == 0);
        CHECK(r.output.find("usage: berth " + std::string(command)) != std::string::npos);
    }
    CHECK(berth("--help").status == 0);
    CHECK(berth("--version").output.find("berth ") == 0);
}

TEST_CASE("berth explain: a table per listener with each field's origin; --json is §6", "[cli]") {
    const auto file = temp_file("explain.toml", valid_toml);
    const auto r = berth("explain " + file);
    CHECK(r.status == 0);
    CHECK(r.output.find("listener submissions") != std::string::npos);
    CHECK(r.output.find("max-connections") != std::string::npos);
    CHECK(r.output.find("server.listener.submissions.max-connections (5:19)") != std::string::npos);
    CHECK(r.output.find("server.socket.backlog (8:11)") != std::string::npos);
    CHECK(r.output.find("built-in default") != std::string::npos);
    const auto json = nlohmann::json::parse(berth("explain --json " + file).output);
    CHECK(json["listeners"][0]["socketBacklog"] == 512);
}

TEST_CASE("berth resolve prints the §6 document", "[cli]") {
    auto r = berth("resolve " + temp_file("resolve.toml", valid_toml));
    CHECK(r.status == 0);
    auto doc = nlohmann::json::parse(r.output);
    const auto& l = doc["listeners"][0];
    CHECK(l["name"] == "submissions");
    CHECK(l["bind"] == nlohmann::json::array({"127.0.0.1:4465"}));
    CHECK(l["maxConnections"] == 1024);
    CHECK(l["socketBacklog"] == 512);
    CHECK(l["tlsTimeout"] == 60000);
    CHECK(l["socketTtl"].is_null());
    CHECK(l["provenance"]["socketBacklog"] == "server.socket.backlog");
    CHECK(l["provenance"]["tlsTimeout"] == "default");
    r = berth("resolve " + temp_file("bad.toml", seed_with_missing_port));
    CHECK(r.status == 1);
    doc = nlohmann::json::parse(r.output);
    CHECK(doc["diagnostics"][0]["path"] == "server.listener.smtp.bind[2]");
    CHECK(doc["diagnostics"][0]["line"] == 2);
}

TEST_CASE("berth convert: TOML to JSON and back resolves to the same listeners", "[cli]") {
    const auto toml = temp_file("convert.toml", valid_toml);
    const auto json = berth("convert " + toml + " --to json");
    REQUIRE(json.status == 0);
    const auto doc = nlohmann::json::parse(json.output);
    CHECK(doc["listeners"][0]["socketBacklog"] == 512);  // the server-wide default, pushed down
    const auto json_file = temp_file("converted.json", json.output);
    const auto back = berth("convert " + json_file + " --to toml");
    REQUIRE(back.status == 0);
    const auto a = nlohmann::json::parse(berth("resolve --no-provenance " + toml).output)["listeners"];
    const auto b = nlohmann::json::parse(berth("resolve --no-provenance " + temp_file("back.toml", back.output)).output)["listeners"];
    CHECK(a == b);
    const auto notes = berth("convert " + toml + " --to json", true);
    CHECK(notes.output.find("note: server.socket.backlog") != std::string::npos);
    const auto wire = nlohmann::json::parse(berth("convert " + toml + " --to json --wire stalwart").output);
    CHECK(wire["listeners"][0]["bind"] == nlohmann::json{{"127.0.0.1:4465", true}});
    CHECK(berth("convert " + toml).status == 2);
    CHECK(berth("convert " + temp_file("bad2.toml", seed_with_missing_port) + " --to json").status == 1);
}

TEST_CASE("the real Stalwart configurations in the shape users have them", "[cli]") {
    // Stalwart 0.15's stock configuration, abridged to its listeners and a few other tables.
    const auto stock = temp_file("stalwart.toml", R"([server.listener."smtp"]
bind = ["[::]:25"]
protocol = "smtp"

[server.listener.pop3s]
bind = "[::]:995"
protocol = "pop3"
tls.implicit = true

[store."rocksdb"]
path = "%{env:STALWART_PATH}%/data"

[authentication.fallback-admin]
secret = "%{env:ADMIN_SECRET}%"
)");
    const auto r = berth("check " + stock);
    CHECK(r.status == 0);
    CHECK(r.output.find("valid") != std::string::npos);
}

TEST_CASE("bad bytes never crash, hang or throw out of the tool", "[cli]") {
    std::mt19937 rng(20261121);
    std::vector<std::string> inputs = {
        "", "\n", "\xff\xfe\xfd", std::string(64, '\0'), "[server.listener.\xc3]\nbind=1",
        "[server]\nmax-connections = 99999999999999999999999999", std::string(100000, '['),
        std::string(5000, '{') , "{\"name\": \"a\", \"bind\": [\"" + std::string(100000, '9') + "\"]}",
        "[server.listener.a]\nbind = \"" + std::string(1 << 20, 'x') + "\"\nprotocol = \"smtp\"",
    };
    for (int i = 0; i < 20; ++i) {
        std::string junk(static_cast<std::size_t>(rng() % 400), '\0');
        for (auto& c : junk) c = static_cast<char>(rng() & 0xff);
        inputs.push_back("[server.listener.x]\n" + junk);
    }
    int index = 0;
    for (const auto& input : inputs) {
        for (const char* ext : {".toml", ".json"}) {
            const auto file = temp_file("junk" + std::to_string(index++) + ext, input);
            for (const char* command : {"check ", "resolve ", "explain ", "convert --to json "}) {
                const auto r = berth(std::string(command) + file);
                INFO(command << file);
                CHECK((r.status == 0 || r.status == 1));
            }
        }
    }
}
