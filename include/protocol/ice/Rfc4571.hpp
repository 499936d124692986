// RFC 4571 framing for RTP, RTCP, STUN and DTLS over a TCP connection (ICE-TCP):
// each packet is preceded by its 16-bit big-endian length. The decoder takes
// the byte stream in any split and hands out whole packets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sfu::ice {

class Rfc4571Decoder {
public:
    static constexpr size_t kMaxFrameSize = 65535;

    class Listener {
    public:
        virtual ~Listener() = default;
        // `data` is valid only during the call; the connection may be closed
        // from here, after which feed() stops.
        virtual void onFrame(const uint8_t* data, size_t length) = 0;
    };

    // Feeds received bytes. Returns false when the stream is unusable (an
    // empty frame: no packet type allows one) and should be closed.
    bool feed(const uint8_t* data, size_t length, Listener& listener);
    // Stops delivering: the rest of the current feed() is ignored.
    void stop() { stopped_ = true; }
    size_t buffered() const { return filled_; }

private:
    // One frame being assembled: the 2 length bytes then the body.
    std::array<uint8_t, 2 + kMaxFrameSize> buffer_{};
    size_t filled_ = 0;
    bool stopped_ = false;
};

// Writes the 2-byte length prefix for a frame of `length` bytes (<= 65535).
inline void writeRfc4571Header(uint8_t* out, size_t length) {
    out[0] = static_cast<uint8_t>(length >> 8);
    out[1] = static_cast<uint8_t>(length);
}

} // namespace sfu::ice
