// A router in process, as the worker runs it (see EntityEnvironment), driven
// by requests built here. Tests run the loop themselves (uv_run on loop()).
#pragma once

#include "rtc/EntityEnvironment.hpp"
#include "rtc/Router.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>

namespace sfu::test {

using channel::json;

class RouterFixture : public ::testing::Test {
protected:
    void SetUp() override { router_ = std::make_unique<rtc::Router>("r", env_.shared()); }
    void TearDown() override { router_.reset(); }

    // The data of an accepted request (a failed expectation otherwise).
    json request(const std::string& method, json internal, json data) {
        return env_.accepted([&](channel::Request& r) { router_->handleRequest(r); }, method,
                             internal, data);
    }

    // Reads the notifications so far without blocking.
    void drainChannel() { env_.notifications(); }

    uv_loop_t* loop() { return env_.loop(); }

    EntityEnvironment env_{42000, 42999, true};
    std::unique_ptr<rtc::Router> router_;
};

} // namespace sfu::test
