#pragma once
// Standalone Asio reports OS errors in its own "asio.system" category, which does not compare equal to
// std::errc values. What berth reports itself (start-up failures, events) uses std::system_category, so
// that `failure.error == std::errc::address_in_use` holds.

#include <asio/error.hpp>

#include <system_error>

namespace berth::detail {

[[nodiscard]] inline std::error_code portable_error(std::error_code error) noexcept {
    if (error && error.category() == asio::error::get_system_category())
        return {error.value(), std::system_category()};
    return error;
}

/// An OS error number, whichever of the three categories carries it; 0 for anything else.
[[nodiscard]] inline int os_error_number(std::error_code error) noexcept {
    const auto& category = error.category();
    if (category == std::system_category() || category == std::generic_category() ||
        category == asio::error::get_system_category())
        return error.value();
    return 0;
}

}  // namespace berth::detail
