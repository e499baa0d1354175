#pragma once
// berth_fuzz::DataProvider: libFuzzer's FuzzedDataProvider where the compiler ships it (clang), otherwise the
// byte-for-byte compatible fallback, so the structured target also builds as a g++ replay executable.
// Defining BERTH_FUZZ_FALLBACK_PROVIDER selects the fallback even under clang, to compare the two.

#if __has_include(<fuzzer/FuzzedDataProvider.h>) && !defined(BERTH_FUZZ_FALLBACK_PROVIDER)
#include <fuzzer/FuzzedDataProvider.h>
namespace berth_fuzz {
using DataProvider = ::FuzzedDataProvider;
}  // namespace berth_fuzz
#else
#include "fallback_data_provider.hpp"
namespace berth_fuzz {
using DataProvider = FallbackDataProvider;
}  // namespace berth_fuzz
#endif
