#include "deps/Libraries.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <srtp2/srtp.h>
#include <stdexcept>
#include <string>

namespace sfu::deps {

Libraries::Libraries() {
    if (OPENSSL_init_ssl(0, nullptr) != 1) {
        throw std::runtime_error("OpenSSL initialisation failed");
    }
    if (const srtp_err_status_t err = srtp_init(); err != srtp_err_status_ok) {
        throw std::runtime_error("libsrtp initialisation failed (" +
                                 std::to_string(static_cast<int>(err)) + ")");
    }
}

Libraries::~Libraries() {
    srtp_shutdown();
}

} // namespace sfu::deps
