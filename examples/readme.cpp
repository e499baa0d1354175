// The README's example, compiled and run by the tests (tests/cli/test_doc_examples.cpp keeps the two equal).
#include <berth/berth.hpp>
#include <iostream>

int main() {
    berth::Resolution config = berth::load(R"(
        [server.listener."submissions"]
        bind = ["[::]:465"]
        protocol = "smtp"
        tls.implicit = true
        max-connections = 1024
    )");
    for (const auto& d : config.diagnostics) std::cout << d.path << ": " << d.message << '\n';
    for (const auto& l : config.listeners)
        std::cout << l.name << " on " << l.bind.at(0).to_string() << ", at most " << l.max_connections
                  << " connections (from " << l.source_of(berth::Field::max_connections).describe() << ")\n";
}
