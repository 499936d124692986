// Asserts that a call throws sfu::TypeError with exactly the given message,
// and not some other exception type.
#pragma once

#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <string>

namespace sfu::params::test {

template <typename F>
::testing::AssertionResult throwsTypeError(F&& f, const std::string& message) {
    try {
        f();
    } catch (const sfu::TypeError& e) {
        if (e.what() == message) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure()
               << "TypeError \"" << e.what() << "\", expected \"" << message << "\"";
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "other exception \"" << e.what() << "\"";
    }
    return ::testing::AssertionFailure() << "no exception, expected \"" << message << "\"";
}

} // namespace sfu::params::test
