// What a project that consumes berth writes: include the umbrella header (or, while this checkout has none yet,
// the model headers) and use a value type. Exits non-zero when berth does not behave as documented.
#if __has_include(<berth/berth.hpp>)
#include <berth/berth.hpp>
#else
#include <berth/model/duration.hpp>
#include <berth/version.hpp>
#endif

#include <cstdio>
#include <string_view>

int main() {
    int failures = 0;
    if (berth::version.text != std::string_view{EXPECTED_VERSION}) {
        std::printf("berth::version.text is %.*s, the package says %s\n", static_cast<int>(berth::version.text.size()),
                    berth::version.text.data(), EXPECTED_VERSION);
        ++failures;
    }
    const auto timeout = berth::Duration::parse("90s");
    if (!timeout || timeout->milliseconds() != 90000 || timeout->to_string() != "90s") {
        std::printf("berth::Duration::parse(\"90s\") is not 90000 ms printed as 90s\n");
        ++failures;
    }
    if (failures == 0) {
        std::printf("berth %s: ok\n", EXPECTED_VERSION);
    }
    return failures == 0 ? 0 : 1;
}
