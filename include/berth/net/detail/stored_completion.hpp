#pragma once
// A completion handler kept for later, whatever its type (the handler of an async_run or an
// async_shutdown that completes when the server is done). It holds outstanding work on the handler's
// executor, as every pending Asio operation does, so the caller's context keeps running until it
// completes, and it completes through that executor, never inline in the call that finishes it.
// (Asio's any_completion_handler does this from Asio 1.26 on; berth supports older versions.)

#include <asio/associated_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <memory>
#include <tuple>
#include <utility>

namespace berth::detail {

template <class... Args>
class StoredCompletion {
public:
    StoredCompletion() noexcept = default;

    template <class Handler, class DefaultExecutor>
    StoredCompletion(Handler&& handler, const DefaultExecutor& fallback)
        : holder_(std::make_unique<Holder<std::decay_t<Handler>, DefaultExecutor>>(std::forward<Handler>(handler),
                                                                                  fallback)) {}

    explicit operator bool() const noexcept { return holder_ != nullptr; }

    /// Posts the handler with `args` to its executor; a stored completion completes once.
    void complete(Args... args) {
        if (!holder_) return;
        std::unique_ptr<Base> holder = std::move(holder_);
        holder->post(std::move(args)...);
    }

private:
    struct Base {
        virtual ~Base() = default;
        virtual void post(Args... args) = 0;
    };

    template <class Handler, class DefaultExecutor>
    struct Holder final : Base {
        using executor_type = asio::associated_executor_t<Handler, DefaultExecutor>;

        Holder(Handler h, const DefaultExecutor& fallback)
            : work(asio::get_associated_executor(h, fallback)), handler(std::move(h)) {}

        void post(Args... args) override {
            executor_type executor = work.get_executor();
            asio::post(executor, [handler = std::move(handler), arguments = std::make_tuple(std::move(args)...)]() mutable {
                std::apply(std::move(handler), std::move(arguments));
            });
            work.reset();
        }

        asio::executor_work_guard<executor_type> work;
        Handler handler;
    };

    std::unique_ptr<Base> holder_;
};

}  // namespace berth::detail
