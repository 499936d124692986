// Compiled against a protocol library's include root: an entity header must
// not be found, so protocol code cannot come to depend on the worker.
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/Producer.hpp"

int sfuLayeringProbeForbidden() {
    return 0;
}
