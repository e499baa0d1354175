#pragma once
// IpMask: one entry of a PROXY-protocol trusted-network list (`addr` or `addr/prefix`) and its matching.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "berth/model/ip_address.hpp"
#include "berth/model/parsed.hpp"

namespace berth {

class IpMask {
public:
    /// SPEC §2.3. The text is trimmed of ASCII whitespace; then `addr` (a full-length prefix) or
    /// `addr/prefix`, `addr` as IpAddress::parse, `prefix` decimal digits, 8..32 for IPv4 and
    /// 8..128 for IPv6; IPv4 address 0.0.0.0 is refused with any prefix. Codes `ip-mask.*`.
    static Parsed<IpMask> parse(std::string_view text);

    [[nodiscard]] const IpAddress& address() const noexcept { return address_; }
    [[nodiscard]] std::uint8_t prefix() const noexcept { return prefix_; }

    /// Some bit after the prefix is set, as in `10.1.2.3/8` (kept as written; a surface warns).
    [[nodiscard]] bool has_host_bits() const noexcept {
        if (address_.is_v4()) {
            const auto bytes = address_.v4_bytes();
            return any_bit_after(std::span<const std::uint8_t>(bytes), prefix_);
        }
        const auto bytes = address_.v6_bytes();
        return any_bit_after(std::span<const std::uint8_t>(bytes), prefix_);
    }

    /// SPEC §2.3: an IPv4 entry matches IPv4 peers and IPv4-mapped IPv6 peers (::ffff:a.b.c.d),
    /// never IPv4-compatible ones such as ::1; an IPv6 entry matches IPv6 peers, and IPv4 peers
    /// through their mapped form. Scope ids are ignored.
    [[nodiscard]] bool matches(const IpAddress& peer) const noexcept {
        if (address_.is_v4()) {
            const std::optional<IpAddress> peer_v4 = peer.is_v4() ? std::optional<IpAddress>(peer) : peer.mapped_v4();
            if (!peer_v4) return false;
            const auto entry_bytes = address_.v4_bytes();
            const auto peer_bytes = peer_v4->v4_bytes();
            return same_prefix(entry_bytes, peer_bytes, prefix_);
        }
        const auto entry_bytes = address_.v6_bytes();
        const auto peer_bytes = peer.v6_bytes();  // an IPv4 peer gives its mapped form
        return same_prefix(entry_bytes, peer_bytes, prefix_);
    }

    /// The address alone for /32 and /128, else `address/prefix`, host bits as written.
    [[nodiscard]] std::string to_string() const;

    auto operator<=>(const IpMask&) const = default;

private:
    IpMask(IpAddress address, std::uint8_t prefix) noexcept : address_(std::move(address)), prefix_(prefix) {}

    template <std::size_t N>
    static bool same_prefix(const std::array<std::uint8_t, N>& a, const std::array<std::uint8_t, N>& b,
                            unsigned bits) noexcept {
        const std::size_t whole_bytes = bits / 8;
        for (std::size_t i = 0; i < whole_bytes; ++i)
            if (a[i] != b[i]) return false;
        const unsigned rest = bits % 8;
        if (rest == 0) return true;
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
        return (a[whole_bytes] & mask) == (b[whole_bytes] & mask);
    }

    static bool any_bit_after(std::span<const std::uint8_t> bytes, unsigned bits) noexcept {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            const unsigned first_bit = static_cast<unsigned>(i) * 8;
            if (first_bit + 8 <= bits) continue;
            const unsigned kept = bits > first_bit ? bits - first_bit : 0;  // leading bits of this byte in the prefix
            const auto host_mask = static_cast<std::uint8_t>(0xffu >> kept);
            if ((bytes[i] & host_mask) != 0) return true;
        }
        return false;
    }

    IpAddress address_;
    std::uint8_t prefix_;
};

namespace detail {

/// The prefix length of a contiguous dotted IPv4 netmask such as `255.255.255.0`, or nothing.
constexpr std::optional<unsigned> netmask_prefix_length(std::string_view text) noexcept {
    const auto octets = read_whole_ipv4(text);
    if (!octets) return std::nullopt;
    const std::uint32_t mask = (std::uint32_t{(*octets)[0]} << 24) | (std::uint32_t{(*octets)[1]} << 16) |
                               (std::uint32_t{(*octets)[2]} << 8) | std::uint32_t{(*octets)[3]};
    unsigned length = 0;
    while (length < 32 && (mask & (std::uint32_t{1} << (31 - length))) != 0) ++length;
    const std::uint32_t expected = length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
    if (mask != expected) return std::nullopt;
    return length;
}

inline ValueError mask_error(std::string code, std::string message, std::string hint) {
    return ValueError{std::move(code), std::move(message), std::move(hint)};
}

/// IpMask::to_string() appended to `out`.
inline void write_ip_mask(AddressText& out, const IpMask& mask) noexcept {
    write_ip(out, mask.address());
    const unsigned full = mask.address().is_v4() ? 32 : 128;
    if (mask.prefix() == full) return;
    out.push_back('/');
    out.append_decimal(mask.prefix());
}

}  // namespace detail

inline std::string IpMask::to_string() const {
    detail::AddressText text;
    detail::write_ip_mask(text, *this);
    return text.str();
}

inline Parsed<IpMask> IpMask::parse(std::string_view text) {
    const std::string_view trimmed = detail::trim_ascii_space(text);
    const std::string shown = detail::quote_text(trimmed);
    if (trimmed.empty())
        return detail::mask_error("ip-mask.invalid", "the network is empty",
                                  "write an address such as `192.0.2.10` or a network such as `10.0.0.0/8`");
    if (detail::contains_ascii_space(trimmed)) {
        const std::string compact = detail::without_ascii_space(trimmed);
        auto fixed = IpMask::parse(compact);  // no whitespace left, so this recursion ends at once
        return detail::mask_error("ip-mask.invalid", shown + " contains whitespace",
                                  fixed ? "write `" + fixed->to_string() + "`" : std::string("remove the whitespace"));
    }

    const std::size_t slash = trimmed.find('/');
    const std::string_view address_text = trimmed.substr(0, slash);
    const auto address = detail::read_whole_ip(address_text);
    if (!address) {
        auto diagnosis = detail::diagnose_address(address_text);
        std::string hint;
        if (!diagnosis.fixed.empty()) {
            hint = "write `" + diagnosis.fixed;
            if (slash != std::string_view::npos) hint += std::string(trimmed.substr(slash));
            hint += "`";
        } else if (diagnosis.problem == detail::AddressProblem::host_name) {
            hint = "use IP addresses or networks, such as `10.0.0.0/8`; host names are never resolved";
        }
        return detail::mask_error("ip-mask.invalid", std::move(diagnosis.message), std::move(hint));
    }

    const unsigned full_length = address->is_v4() ? 32 : 128;
    unsigned prefix = full_length;
    const std::string_view prefix_text = slash == std::string_view::npos ? std::string_view() : trimmed.substr(slash);
    if (slash != std::string_view::npos) {
        const std::string_view digits = prefix_text.substr(1);
        if (!detail::all_ascii_digits(digits)) {
            std::string hint = "write the prefix length as a decimal number, e.g. `" + address->to_string() +
                               (address->is_v4() ? "/24" : "/64") + "`";
            if (const auto length = detail::netmask_prefix_length(digits); length && address->is_v4())
                hint = "write the netmask as a prefix length: `" + address->to_string() + "/" +
                       std::to_string(*length) + "`";
            return detail::mask_error("ip-mask.invalid",
                                      digits.empty() ? shown + " has no prefix length after `/`"
                                                     : "prefix " + detail::quote_text(prefix_text) + " of " + shown +
                                                           " is not a decimal number",
                                      std::move(hint));
        }
        // Saturate: any prefix past 999 is as "too long" as 129.
        unsigned value = 0;
        for (char c : digits) {
            value = value * 10 + static_cast<unsigned>(c - '0');
            if (value > 999) value = 1000;
        }
        prefix = value;
    }

    if (address->is_v4() && address->is_unspecified())
        return detail::mask_error(
            "ip-mask.unspecified-v4",
            shown + " is built on 0.0.0.0, the unspecified address: no real peer has it, and as a network it "
                    "would trust everyone to send PROXY headers and forge their address",
            "list the addresses or networks of your proxies, e.g. `10.0.0.0/8` or `192.0.2.10`");
    if (prefix < 8) {
        const unsigned host_bits = full_length - prefix;
        return detail::mask_error(
            "ip-mask.prefix-too-short",
            "prefix " + detail::quote_text(prefix_text) + " of " + shown + " is shorter than /8: it trusts 2^" +
                std::to_string(host_bits) + " addresses to send PROXY headers, which lets anyone among them forge "
                "their address",
            "list only your proxies' networks, with a prefix of 8 or more, e.g. `" +
                std::string(address->is_v4() ? "10.0.0.0/8" : "fd00::/8") + "`");
    }
    if (prefix > full_length)
        return detail::mask_error("ip-mask.prefix-too-long",
                                  "prefix " + detail::quote_text(prefix_text) + " of " + shown + " is longer than the " +
                                      std::to_string(full_length) +
                                      " bits of an " + (address->is_v4() ? "IPv4" : "IPv6") + " address",
                                  "write `" + address->to_string() + "` for this one address");
    if (address->is_v6()) {
        // IPv4 peers are matched through their mapped form ::ffff:a.b.c.d (SPEC §2.3), so an IPv6 mask
        // that covers ::ffff:0:0/96 with fewer than 8 bits of IPv4 (`::/8`, `::ffff:0.0.0.0/96`) would
        // trust the whole IPv4 Internet: the same forgery risk the /8 minimum exists to stop.
        static constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const auto bytes = address->v6_bytes();
        bool covers_mapped = true;
        for (unsigned bit = 0; bit < std::min(prefix, 96u) && covers_mapped; ++bit) {
            const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
            covers_mapped = (bytes[bit / 8] & mask) == (mapped_prefix[bit / 8] & mask);
        }
        if (covers_mapped && prefix < 96 + 8)
            return detail::mask_error(
                "ip-mask.prefix-too-short",
                shown + " covers the IPv4-mapped addresses ::ffff:0:0/96 with a prefix shorter than /8 of IPv4: "
                        "every IPv4 peer could send PROXY headers and forge its address",
                "list only your proxies' networks, e.g. `::ffff:10.0.0.0/104` or `10.0.0.0/8`");
    }
    return IpMask(*address, static_cast<std::uint8_t>(prefix));
}

}  // namespace berth
