#include "rtc/srtp/Random.hpp"

#include "utils/Errors.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/random.h>

namespace sfu::srtp {

void randomBytes(std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
        // Large requests may be cut short and signals may interrupt; both
        // just mean asking again for the rest.
        const ssize_t got = getrandom(out.data() + done, out.size() - done, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error(std::string("cannot get random bytes: ") + std::strerror(errno));
        }
        done += static_cast<size_t>(got);
    }
}

std::vector<uint8_t> generateKey(CryptoSuite suite) {
    std::vector<uint8_t> key(keyLength(suite));
    randomBytes(key);
    return key;
}

} // namespace sfu::srtp
