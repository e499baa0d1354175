#pragma once
// A session's start, on the session's executor, as one composed operation: the PROXY header from a
// trusted peer (within tlsTimeout), the permit (SPEC §5: after the header, which decides who the
// client is), the overload policy's busy line for a connection over the limit, implicit TLS, and
// then the handler. Any failure is reported where it happens and ends the session.

#include <asio/buffer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "berth/net/detail/handler_dispatch.hpp"
#include "berth/net/detail/ref_counted.hpp"
#include "berth/net/error.hpp"
#include "berth/net/events.hpp"
#include "berth/net/fault_injection.hpp"
#include "berth/net/proxy_reader.hpp"
#include "berth/net/session.hpp"

namespace berth::detail {

/// What becomes of a connection that asks for a permit: it gets one, or it is over the limit and
/// gets the overload policy's busy line, or (no busy line) it is closed at once.
enum class Admission : unsigned char { admitted, busy_reply, closed };

/// Takes the session's permit, or reports the refusal and says what the overload policy does.
template <class Policies, class Block>
Admission admit(Policies& policies, Block& block, FailCount* fail) {
    if (!(fail && fail->fail(SessionStep::permit)))
        block.permit = policies.connection_limit.try_acquire(block.listener().connections);
    if (block.permit) return Admission::admitted;
    block.services().report(EventKind::refused_over_limit, block.session.peer(), {}, {});
    return policies.overload.busy_reply(block.listener().config).empty() ? Admission::closed : Admission::busy_reply;
}

/// The overload policy's busy line, then an orderly close, within min(tlsTimeout, 5 s). After the
/// line the send side is shut down and what the client still sends is read and dropped until it
/// closes (or the deadline), so the kernel does not answer it with a reset that could destroy the
/// line before the client reads it.
template <class Block>
class BusyReply {
public:
    static constexpr auto longest_wait = std::chrono::milliseconds(5000);

    static void start(Ref<Block> block, std::string_view reply) {
        auto& session = block->session;
        const auto timeout =
            std::min(std::chrono::milliseconds(block->listener().config.tls_timeout.milliseconds()), longest_wait);
        SessionAccess::arm_deadline(session, timeout);
        auto& socket = session.socket();
        asio::async_write(socket, asio::buffer(reply.data(), reply.size()), BusyReply(std::move(block)));
    }

    void operator()(std::error_code ec, std::size_t) {
        auto& session = block_->session;
        auto& sink = session.stream().plain().prefix();
        if (!ec && !draining_) {
            draining_ = true;
            sink.clear();  // bytes that came with a PROXY header are dropped with the rest
            session.socket().shutdown(Block::socket_type::shutdown_send, ec);
        }
        // Read into the free space without committing: the bytes are dropped, and the storage is kept
        // for the next read instead of being made anew for each.
        const auto space = ec ? std::span<std::uint8_t>{} : sink.free_space();
        if (space.empty()) {
            sink.clear();
            SessionAccess::disarm_deadline(session);
            block_->end();
            return;
        }
        session.socket().async_read_some(asio::buffer(space.data(), space.size()), std::move(*this));
    }

private:
    explicit BusyReply(Ref<Block> block) noexcept : block_(std::move(block)) {}

    Ref<Block> block_;
    bool draining_ = false;
};

template <class Policies, class Block, class Handler>
class SessionStart {
public:
    /// `needs_proxy_header`: the peer is a trusted proxy. `refused`: the permit was already refused
    /// (the busy line is all the session gets).
    SessionStart(Policies& policies, Handler& handler, FailCount* fail, Ref<Block> block, bool needs_proxy_header,
                 bool refused) noexcept
        : policies_(&policies), handler_(&handler), fail_(fail), block_(std::move(block)),
          needs_proxy_header_(needs_proxy_header), refused_(refused) {}

    /// The session's executor, where the start runs.
    [[nodiscard]] auto session_executor() const { return block_->session.get_executor(); }

    /// Begins, on the session's executor.
    void operator()() {
        if (!needs_proxy_header_) return after_proxy_header();
        auto& session = block_->session;
        SessionAccess::arm_deadline(session, block_->listener().config.tls_timeout);
        auto& stream = session.stream().plain();
        async_read_proxy_header(stream, policies_->proxy_protocol.limits(), std::move(*this));
    }

    /// A trusted peer's PROXY header: any problem is reported and closes.
    void operator()(ProxyReadResult result) {
        auto& session = block_->session;
        std::error_code error =
            SessionAccess::disarm_deadline(session) ? std::error_code(asio::error::timed_out) : result.error;
        std::string_view detail = result.parse.failed() ? describe(result.parse.error) : std::string_view{};
        if (!error && !policies_->proxy_protocol.accepts(result.parse.header.version)) {
            error = make_error_code(NetError::proxy_header_invalid);
            detail = result.parse.header.version == ProxyVersion::v1 ? "PROXY v1 is not accepted"
                                                                      : "PROXY v2 is not accepted";
        }
        if (!error && fail_ && fail_->fail(SessionStep::proxy_read)) {
            error = make_error_code(NetError::proxy_header_invalid);
            detail = "injected fault";
        }
        if (error) {
            if (!block_->services().stopping())
                block_->services().report(EventKind::proxy_error, session.peer(), error, detail);
            return block_->end();
        }
        SessionAccess::set_proxy_header(session, std::move(result.parse.header));
        const Admission admission = block_->permit ? Admission::admitted : admit(*policies_, *block_, fail_);
        if (admission == Admission::closed) return block_->end();
        refused_ = admission == Admission::busy_reply;
        after_proxy_header();
    }

    /// Implicit TLS done.
    void operator()(std::error_code ec) {
        if (!ec && fail_ && fail_->fail(SessionStep::tls_handshake)) {
            ec = make_error_code(std::errc::connection_aborted);
            block_->services().report(EventKind::tls_error, block_->session.peer(), ec, "injected fault");
        }
        if (ec) return block_->end();  // a real failure was reported by the handshake
        dispatch_handler(*handler_, std::move(block_), fail_);
    }

private:
    void after_proxy_header() {
        const ResolvedListener& config = block_->listener().config;
        if (refused_) {
            const std::string_view reply = policies_->overload.busy_reply(config);
            return BusyReply<Block>::start(std::move(block_), reply);
        }
        if (config.use_tls && config.tls_implicit) {
            auto& session = block_->session;
            SessionAccess::async_implicit_tls(session, std::move(*this));
            return;
        }
        dispatch_handler(*handler_, std::move(block_), fail_);
    }

    Policies* policies_;
    Handler* handler_;
    FailCount* fail_;
    Ref<Block> block_;
    bool needs_proxy_header_;
    bool refused_;
};

}  // namespace berth::detail
