#pragma once
// berth's version: the single place it is written. CMake reads the three numbers from here.

#include <string_view>

#define BERTH_VERSION_MAJOR 0
#define BERTH_VERSION_MINOR 1
#define BERTH_VERSION_PATCH 0
#define BERTH_VERSION_STRING "0.1.0"

/// One integer for preprocessor comparisons: MAJOR * 10000 + MINOR * 100 + PATCH.
#define BERTH_VERSION (BERTH_VERSION_MAJOR * 10000 + BERTH_VERSION_MINOR * 100 + BERTH_VERSION_PATCH)

namespace berth {

struct Version {
    int major;
    int minor;
    int patch;
    std::string_view text;  ///< "MAJOR.MINOR.PATCH"

    friend constexpr bool operator==(const Version&, const Version&) = default;
};

inline constexpr Version version{BERTH_VERSION_MAJOR, BERTH_VERSION_MINOR, BERTH_VERSION_PATCH,
                                 BERTH_VERSION_STRING};

}  // namespace berth
