// libsrtp's global initialisation, done once for the whole test binary, for
// the libsrtp2 oracle our SRTP is checked against (the worker itself does
// not use libsrtp).
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
