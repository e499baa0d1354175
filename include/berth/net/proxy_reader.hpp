#pragma once
// Reading a PROXY header from a trusted peer: the policy (which versions are accepted, how large a v2
// header may be) and the asynchronous reader that feeds the pure parser until it has a header. The
// deadline is the caller's (the session arms tlsTimeout around it).

#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <system_error>

#include "berth/net/error.hpp"
#include "berth/net/proxy_protocol.hpp"
#include "berth/net/session_stream.hpp"

namespace berth {

/// Which PROXY versions a listener with trusted networks accepts, and the parser's limits. A policy
/// that accepts no version cannot serve such a listener: the server refuses to start it.
template <class P>
concept ProxyProtocolPolicy = requires(const P& policy, ProxyVersion version) {
    { policy.accepts(version) } -> std::convertible_to<bool>;
    { policy.limits() } -> std::same_as<ProxyLimits>;
};

/// SPEC §5: the first byte picks the version, `P` v1, `\r` v2.
struct ProxyV1AndV2 {
    ProxyLimits parser_limits{};
    [[nodiscard]] bool accepts(ProxyVersion) const noexcept { return true; }
    [[nodiscard]] ProxyLimits limits() const noexcept { return parser_limits; }
};

struct ProxyV1Only {
    [[nodiscard]] bool accepts(ProxyVersion version) const noexcept { return version == ProxyVersion::v1; }
    [[nodiscard]] ProxyLimits limits() const noexcept { return {}; }
};

struct ProxyV2Only {
    ProxyLimits parser_limits{};
    [[nodiscard]] bool accepts(ProxyVersion version) const noexcept { return version == ProxyVersion::v2; }
    [[nodiscard]] ProxyLimits limits() const noexcept { return parser_limits; }
};

/// No PROXY protocol: a listener that trusts PROXY senders is refused at start-up rather than having
/// its trusted peers' headers handed to the session as data.
struct NoProxyProtocol {
    [[nodiscard]] bool accepts(ProxyVersion) const noexcept { return false; }
    [[nodiscard]] ProxyLimits limits() const noexcept { return {}; }
};

/// The outcome of reading a header: the parse result (complete, or the parser's error) and, when the
/// read itself failed, why (`NetError::proxy_header_truncated` for a close inside the header).
struct ProxyReadResult {
    ProxyParseResult parse;
    std::error_code error;
};

namespace detail {

template <class Socket>
struct ReadProxyHeaderOp {
    PrefixedStream<Socket>& stream;
    ProxyLimits limits;
    bool started = false;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
        if (started) {
            if (ec) {
                const bool closed = ec == asio::error::eof || ec == asio::error::connection_reset;
                self.complete(ProxyReadResult{{}, closed ? make_error_code(NetError::proxy_header_truncated) : ec});
                return;
            }
            stream.prefix().commit(n);
            ProxyParseResult result = parse_proxy_header(stream.prefix().pending(), limits);
            if (result.complete()) stream.prefix().consume(result.consumed);
            if (!result.needs_more()) {
                const std::error_code error =
                    result.failed() ? make_error_code(NetError::proxy_header_invalid) : std::error_code{};
                self.complete(ProxyReadResult{std::move(result), error});
                return;
            }
        }
        started = true;
        auto space = stream.prefix().free_space();
        // Limits above the buffer would wait for bytes there is no room for: the buffer bounds them.
        if (space.empty()) {
            self.complete(ProxyReadResult{ProxyParseResult::fail(ProxyError::v2_header_too_large),
                                          make_error_code(NetError::proxy_header_invalid)});
            return;
        }
        // Reads from the socket directly: nothing is buffered yet, and what is read stays buffered.
        stream.next_layer().async_read_some(asio::buffer(space.data(), space.size()), std::move(self));
    }
};

}  // namespace detail

/// Reads until `parse_proxy_header` has a complete header or an error. The bytes after the header stay
/// in the stream's buffer, served first to the next reader. Completion: `void(ProxyReadResult)`.
template <class Socket, class Token>
auto async_read_proxy_header(PrefixedStream<Socket>& stream, ProxyLimits limits, Token&& token) {
    limits.max_v2_header_size = std::min(limits.max_v2_header_size, detail::PrefixBuffer::capacity);
    return asio::async_compose<Token, void(ProxyReadResult)>(detail::ReadProxyHeaderOp<Socket>{stream, limits},
                                                             token, stream.next_layer());
}

}  // namespace berth
