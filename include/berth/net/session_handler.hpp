#pragma once
// The session handler: what runs on each connection once it is ready (PROXY header read, permit
// taken, implicit TLS done). Three shapes are accepted:
//   - a coroutine:            asio::awaitable<void> handler(Session&)
//   - a callback:             void handler(Session&, auto done)   calls std::move(done)(std::error_code) once;
//                             any Asio-style initiating function taking a completion token fits here too
//   - an awaitable operation: asio::awaitable<T> handler(Session&, asio::use_awaitable_t<>)
// The handler object is shared by every session and called concurrently from the server's threads.

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <concepts>
#include <system_error>
#include <type_traits>
#include <utility>

namespace berth {

namespace detail {

template <class T>
inline constexpr bool is_awaitable_v = false;
template <class T, class Executor>
inline constexpr bool is_awaitable_v<asio::awaitable<T, Executor>> = true;

/// The least a callback handler's completion can be: move-only, called once with an error code.
struct SessionCompletionArchetype {
    SessionCompletionArchetype() = default;
    SessionCompletionArchetype(SessionCompletionArchetype&&) = default;
    SessionCompletionArchetype& operator=(SessionCompletionArchetype&&) = default;
    void operator()(std::error_code) {}
};

}  // namespace detail

template <class H, class Session>
concept CoroutineSessionHandler = requires(H& handler, Session& session) {
    { handler(session) } -> std::same_as<asio::awaitable<void>>;
};

template <class H, class Session>
concept CallbackSessionHandler = requires(H& handler, Session& session, detail::SessionCompletionArchetype done) {
    handler(session, std::move(done));
};

template <class H, class Session>
concept AwaitableOperationSessionHandler = requires(H& handler, Session& session) {
    requires detail::is_awaitable_v<decltype(handler(session, asio::use_awaitable))>;
};

template <class H, class Session>
concept SessionHandler = CoroutineSessionHandler<H, Session> || CallbackSessionHandler<H, Session> ||
                         AwaitableOperationSessionHandler<H, Session>;

}  // namespace berth
