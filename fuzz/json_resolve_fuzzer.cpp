// Fuzz target: any text, read as NetworkListener JSON (any shape of SPEC §7) and resolved.
// Checks the properties of configuration_properties.hpp: no crash, leak or exception; well-formed diagnostics
// (JSON pointers, positions inside the text); complete listeners; and, when the configuration is valid, the same
// listeners after conversion to TOML and back and to canonical JSON and back.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "configuration_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    berth_fuzz::check_json_document(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
