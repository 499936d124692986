#include "utils/Random.hpp"

#include "utils/Errors.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/random.h>

namespace sfu {

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

uint32_t randomUint32() {
    uint8_t bytes[4];
    randomBytes(bytes);
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
           bytes[3];
}

uint32_t randomBetween(uint32_t min, uint32_t max) {
    if (max <= min) {
        return min;
    }
    const uint64_t span = uint64_t{max} - min + 1;
    // Rejection keeps every value equally likely.
    const uint64_t limit = (uint64_t{1} << 32) - ((uint64_t{1} << 32) % span);
    uint64_t value = 0;
    do {
        value = randomUint32();
    } while (value >= limit);
    return static_cast<uint32_t>(min + value % span);
}

double randomDouble(double min, double max) {
    // 32 random bits are plenty for the spreads this is used for.
    return min + (max - min) * (static_cast<double>(randomUint32()) / 4294967296.0);
}

} // namespace sfu
