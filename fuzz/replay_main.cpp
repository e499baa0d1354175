// Runs a fuzz target over saved inputs without libFuzzer, so the same targets are ordinary tests under any compiler.
//
//   <target>_replay <file-or-directory>...
//
// Directories are walked recursively and their files run in name order, so a failure is repeatable. Each input is
// copied into a buffer of exactly its size, so that AddressSanitizer sees a target reading past the end. Arguments
// starting with '-' (libFuzzer flags) are ignored, so a command line written for the libFuzzer executable also runs
// here. Exit status 0 when every input ran, 2 when a path is missing or holds no input; a broken property traps.

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
// Present when a sanitizer runtime is linked in: called before a sanitizer report ends the process.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

// The input being run, for the crash message. A fixed buffer: the signal handler may only read it.
char current_input[4096] = "";

void report_current_input() {
    static const char prefix[] = "\nreplay: crashed while running ";
    (void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!write(STDERR_FILENO, current_input, std::strlen(current_input));
    (void)!write(STDERR_FILENO, "\n", 1);
}

extern "C" void on_fatal_signal(int signal_number) {
    report_current_input();
    std::signal(signal_number, SIG_DFL);  // then die of the same signal, so the exit status stays honest
    std::raise(signal_number);
}

void install_crash_reporting() {
    for (int signal_number : {SIGILL, SIGABRT, SIGSEGV, SIGBUS, SIGFPE}) std::signal(signal_number, on_fatal_signal);
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(report_current_input);
}

bool read_file(const std::filesystem::path& path, std::vector<std::uint8_t>& bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

void run_one(const std::filesystem::path& path) {
    std::vector<std::uint8_t> contents;
    if (!read_file(path, contents)) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        std::exit(2);
    }
    const std::string name = path.string();
    const std::size_t kept = std::min(name.size(), sizeof current_input - 1);
    std::memcpy(current_input, name.data(), kept);
    current_input[kept] = '\0';
    // An exactly sized heap block: a read past its end is a heap-buffer-overflow under ASan. An empty input is
    // passed as a null pointer and size 0, as libFuzzer's contract allows.
    const std::size_t size = contents.size();
    std::unique_ptr<std::uint8_t[]> exact(size ? new std::uint8_t[size] : nullptr);
    if (size) std::memcpy(exact.get(), contents.data(), size);
    LLVMFuzzerTestOneInput(exact.get(), size);
}

}  // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    install_crash_reporting();
    std::size_t inputs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        if (argument.starts_with("-")) continue;
        const std::filesystem::path path(argument);
        std::error_code error;
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(path, error)) {
            for (std::filesystem::recursive_directory_iterator it(path, error), end; !error && it != end;
                 it.increment(error))
                if (it->is_regular_file(error)) files.push_back(it->path());
            std::sort(files.begin(), files.end());
        } else if (std::filesystem::is_regular_file(path, error)) {
            files.push_back(path);
        }
        if (error || files.empty()) {
            std::fprintf(stderr, "replay: %s is not a readable input file or a directory holding some\n", argv[i]);
            return 2;
        }
        for (const auto& file : files) run_one(file);
        inputs += files.size();
    }
    std::printf("replay: %zu inputs ran without breaking a property\n", inputs);
    return inputs ? 0 : 2;
}
