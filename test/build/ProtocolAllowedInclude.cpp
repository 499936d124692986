// Compiled against a protocol library's include root: protocol and utility
// headers are reachable from protocol code.
#include "protocol/rtp/RtpPacket.hpp"
#include "utils/Bytes.hpp"

int sfuLayeringProbeAllowed() {
    return 0;
}
