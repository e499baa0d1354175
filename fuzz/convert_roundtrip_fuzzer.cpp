// Fuzz target: SPEC §8 conversion of a valid Stalwart TOML configuration.
// Property: TOML -> JSON -> TOML -> JSON -> TOML keeps the resolved listeners at every step, and the conversion is
// stable: the second JSON text equals the first and the second TOML text equals the first (one round reaches the
// canonical form). Stalwart's wire form ({"member": true} sets, only the fields Stalwart knows) keeps every
// value but the berth extension socketLinger, and says so in a note. Invalid configurations are not converted
// (to_json_text's precondition); toml_resolve_fuzzer covers reading them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "configuration_properties.hpp"

namespace {

using berth_fuzz::DocumentScope;

/// The listeners without socketLinger, which Stalwart's wire form cannot carry.
berth::Resolution without_linger(berth::Resolution r) {
    for (auto& l : r.listeners) l.socket_linger.reset();
    return r;
}

bool has_linger(const berth::Resolution& r) {
    for (const auto& l : r.listeners)
        if (l.socket_linger) return true;
    return false;
}

void check_notes(const berth::Conversion& conversion) {
    for (const auto& note : conversion.notes) BERTH_FUZZ_CHECK_DETAIL(!note.message.empty(), note.path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace berth;
    using namespace berth_fuzz;
    const std::string_view toml_0(reinterpret_cast<const char*>(data), size);
    const DocumentScope input_scope(toml_0);
    const Configuration config_0 = read_toml(toml_0, fixed_environment());
    const Resolution resolved = resolve(config_0, fixed_host());
    if (!resolved.valid()) return 0;

    const Conversion json_1 = to_json_text(config_0);
    check_notes(json_1);
    const Configuration config_1 = read_json(json_1.text);
    {
        const DocumentScope scope(json_1.text);
        check_same_listeners(resolved, resolve(config_1, fixed_host()), "TOML -> JSON");
    }
    const Conversion toml_1 = to_toml_text(config_1);
    const Configuration config_2 = read_toml(toml_1.text, fixed_environment());
    {
        const DocumentScope scope(toml_1.text);
        check_same_listeners(resolved, resolve(config_2, fixed_host()), "TOML -> JSON -> TOML");
    }
    const Conversion json_2 = to_json_text(config_2);
    {
        const DocumentScope scope(json_2.text);
        BERTH_FUZZ_CHECK_DETAIL(json_2.text == json_1.text, "the second JSON differs from the first:\n" + json_1.text);
    }
    const Conversion toml_2 = to_toml_text(read_json(json_2.text));
    {
        const DocumentScope scope(toml_2.text);
        BERTH_FUZZ_CHECK_DETAIL(toml_2.text == toml_1.text, "the second TOML differs from the first:\n" + toml_1.text);
    }

    const Conversion wire = to_json_text(config_0, JsonWire::stalwart);
    check_notes(wire);
    {
        const DocumentScope scope(wire.text);
        check_same_listeners(without_linger(resolved), resolve_json_text(wire.text), "TOML -> Stalwart wire JSON");
        if (has_linger(resolved)) BERTH_FUZZ_CHECK_DETAIL(!wire.notes.empty(), "socketLinger was dropped silently");
    }
    return 0;
}
