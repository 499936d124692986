#include "deps/Libraries.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdexcept>

namespace sfu::deps {

Libraries::Libraries() {
    if (OPENSSL_init_ssl(0, nullptr) != 1) {
        throw std::runtime_error("OpenSSL initialisation failed");
    }
}

Libraries::~Libraries() = default;

} // namespace sfu::deps
