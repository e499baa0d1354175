#pragma once
// Conversions between berth's SocketAddr and Asio's IP endpoints.

#include <asio/ip/address.hpp>
#include <asio/ip/basic_endpoint.hpp>

#include "berth/model/ip_address.hpp"
#include "berth/model/socket_addr.hpp"

namespace berth {

[[nodiscard]] inline asio::ip::address to_asio_address(const IpAddress& address) {
    if (address.is_v4()) return asio::ip::address_v4(address.v4_bytes());
    return asio::ip::address_v6(address.v6_bytes(), address.scope_id());
}

template <class Protocol>
[[nodiscard]] asio::ip::basic_endpoint<Protocol> to_endpoint(const SocketAddr& address) {
    return {to_asio_address(address.address()), address.port()};
}

[[nodiscard]] inline IpAddress to_ip_address(const asio::ip::address& address) {
    if (address.is_v4()) return IpAddress::v4(address.to_v4().to_bytes());
    const auto v6 = address.to_v6();
    return IpAddress::v6(v6.to_bytes(), static_cast<std::uint32_t>(v6.scope_id()));
}

template <class Protocol>
[[nodiscard]] SocketAddr to_socket_addr(const asio::ip::basic_endpoint<Protocol>& endpoint) {
    return {to_ip_address(endpoint.address()), endpoint.port()};
}

/// The address a peer is reported with: an IPv4 peer on a dual-stack IPv6 socket arrives as
/// ::ffff:a.b.c.d and is reported as a.b.c.d, the address the client actually has.
[[nodiscard]] inline SocketAddr unmapped(const SocketAddr& address) {
    if (auto v4 = address.address().mapped_v4()) return {*v4, address.port()};
    return address;
}

}  // namespace berth
