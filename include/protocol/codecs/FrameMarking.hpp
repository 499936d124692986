// Fields of the video frame marking RTP header extension
// (draft-ietf-avtext-framemarking, RFC 9626) as plain values. The rtp module
// parses the extension bytes; codecs only interpret them.
//
//   short form: |S|E|I|D|B| TID |
//   long form:  |S|E|I|D|B| TID |      LID      |   TL0PICIDX   |
//
// Names follow rtp::FrameMarking; from it: hasLayerId = size >= 2,
// hasTl0PicIdx = size >= 3.
#pragma once

#include <cstdint>

namespace sfu::codecs {

struct FrameMarking {
    bool startOfFrame = false;  // S: first packet of a frame (of a layer)
    bool endOfFrame = false;    // E: last packet of a frame (of a layer)
    bool independent = false;   // I: decodable without temporally prior frames
    bool discardable = false;   // D: nothing refers to this frame
    bool baseLayerSync = false; // B: depends only on the base temporal layer
    uint8_t temporalId = 0;     // TID (3 bits)
    bool hasLayerId = false;    // LID present
    uint8_t layerId = 0;
    bool hasTl0PicIdx = false; // TL0PICIDX present
    uint8_t tl0PicIdx = 0;
};

} // namespace sfu::codecs
