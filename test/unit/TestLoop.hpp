// A libuv loop for one test: runs until a condition holds (or a deadline
// passes), and on destruction lets every closed handle finish closing so
// that the loop closes cleanly and leak checkers stay quiet.
#pragma once

#include <chrono>
#include <functional>
#include <gtest/gtest.h>
#include <thread>
#include <uv.h>

namespace sfu::test {

class TestLoop {
public:
    TestLoop() { uv_loop_init(&loop_); }
    ~TestLoop() {
        // Handles closed by the test need loop iterations to free themselves.
        int result = uv_loop_close(&loop_);
        for (int i = 0; i < 100 && result == UV_EBUSY; ++i) {
            uv_run(&loop_, UV_RUN_NOWAIT);
            result = uv_loop_close(&loop_);
        }
        EXPECT_EQ(result, 0) << "a handle was left open";
    }
    TestLoop(const TestLoop&) = delete;
    TestLoop& operator=(const TestLoop&) = delete;

    uv_loop_t* get() { return &loop_; }

    // Runs the loop until `done()` or two seconds have passed. Returns
    // `done()`.
    bool runUntil(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            if (uv_run(&loop_, UV_RUN_NOWAIT) == 0) {
                // Nothing active: avoid spinning while packets are in flight.
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        return true;
    }

    // Lets pending callbacks (close, send completion) run.
    void drain() {
        for (int i = 0; i < 10; ++i) {
            uv_run(&loop_, UV_RUN_NOWAIT);
        }
    }

private:
    uv_loop_t loop_;
};

} // namespace sfu::test
