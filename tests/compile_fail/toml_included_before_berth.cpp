// Must not compile with toml++ 3.3 or 3.4: toml++ was included before berth, so berth cannot patch it
// (config/toml_safe.hpp). The packaging test model/toml_included_before_berth_is_refused builds it and expects
// berth's error message.
#if __has_include(<toml++/toml.hpp>)
#include <toml++/toml.hpp>
#else
#include <toml++/toml.h>
#endif

#include <berth/model.hpp>

int main() { return berth::load("").valid() ? 0 : 1; }
