// The worker's one source of randomness: the kernel's CSPRNG (getrandom(2),
// the source OpenSSL seeds from too) for keys, ICE credentials, SSRCs and
// initial sequence numbers, and for the few draws that need no secrecy
// (RTCP interval spread, port choice) as well: they are rare enough that
// the system call costs nothing worth a second generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sfu {

// Fills `out`. Throws sfu::Error if the kernel refuses, which only a broken
// system does.
void randomBytes(std::span<uint8_t> out);

uint32_t randomUint32();

// Uniform in [min, max] (inclusive); min when max < min.
uint32_t randomBetween(uint32_t min, uint32_t max);

// Uniform in [min, max).
double randomDouble(double min, double max);

} // namespace sfu
