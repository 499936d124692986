// libsrtp's global initialisation, done once for the whole test binary as
// the worker does at start-up.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

namespace {

class SrtpEnvironment : public ::testing::Environment {
public:
    void SetUp() override { ASSERT_EQ(srtp_init(), srtp_err_status_ok); }
    void TearDown() override { srtp_shutdown(); }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new SrtpEnvironment);

} // namespace
