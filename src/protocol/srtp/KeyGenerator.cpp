#include "protocol/srtp/KeyGenerator.hpp"

#include "utils/Random.hpp"

namespace sfu::srtp {

std::vector<uint8_t> generateKey(CryptoSuite suite) {
    std::vector<uint8_t> key(keyLength(suite));
    randomBytes(key);
    return key;
}

} // namespace sfu::srtp
