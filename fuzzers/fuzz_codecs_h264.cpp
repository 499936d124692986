// H.264: the input is parsed as one payload (alone and with frame marking
// values taken from its first octets) and as an SPS; then read as a stream
// of frame-marked packets for one consumer's temporal filter.
#include "FuzzUtil.hpp"
#include "protocol/codecs/Codecs.hpp"
#include "protocol/codecs/H264.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace sfu::codecs;
using sfu::fuzz::check;

namespace {

FrameMarking marking(uint8_t a, uint8_t b) {
    FrameMarking fm;
    fm.startOfFrame = (a & 0x80) != 0;
    fm.endOfFrame = (a & 0x40) != 0;
    fm.independent = (a & 0x20) != 0;
    fm.discardable = (a & 0x10) != 0;
    fm.baseLayerSync = (a & 0x08) != 0;
    fm.temporalId = a & 0x07;
    fm.hasLayerId = (b & 0x01) != 0;
    fm.layerId = b;
    fm.hasTl0PicIdx = (b & 0x02) != 0;
    fm.tl0PicIdx = b;
    return fm;
}

void onePayload(const uint8_t* data, size_t size) {
    // Parsing never writes; a copy of exactly `size` bytes lets ASan see
    // any read past the end.
    std::vector<uint8_t> copy(data, data + size);
    const auto d = h264::PayloadDescriptor::parse(copy.data(), copy.size());
    if (d) {
        check(d->nalCount >= 1);
        check(d->nalType >= 1 && d->nalType <= 23);
        check(d->isKeyFrame == (d->hasIdr || d->hasSps));
        check(!d->hasFrameSize || (d->hasSps && d->width > 0 && d->height > 0));
        const auto info = parsePayload(Codec::H264, copy.data(), copy.size());
        check(info.has_value() && info->isKeyFrame == d->isKeyFrame);
    }
    if (size >= 2) {
        const FrameMarking fm = marking(data[0], data[1]);
        const auto m = h264::PayloadDescriptor::parse(copy.data(), copy.size(), fm);
        check(m.has_value() == d.has_value());
        if (m) {
            check(m->temporalLayer() == fm.temporalId);
            check(m->isKeyFrame == (d->isKeyFrame || (fm.startOfFrame && fm.independent)));
        }
    }
    if (const auto sps = h264::parseSps(copy.data(), copy.size())) {
        check(sps->width > 0 && sps->height > 0);
    }
}

void stream(const uint8_t* data, size_t size) {
    if (size < 1) {
        return;
    }
    h264::EncodingContext ctx;
    ctx.setTargetTemporalLayer(data[0] & 0x07);
    EncodingContext wrapped(Codec::H264);
    wrapped.setTargetLayers(0, data[0] >> 5);
    size_t off = 1;
    // Each packet: frame marking octet, length octet, payload.
    while (size - off >= 2) {
        const uint8_t fmOctet = data[off];
        const size_t want = data[off + 1];
        off += 2;
        const size_t n = want < size - off ? want : size - off;
        std::vector<uint8_t> pkt(data + off, data + off + n);
        off += n;
        const FrameMarking fm = marking(fmOctet, 0);
        if (const auto d = h264::PayloadDescriptor::parse(pkt.data(), pkt.size(), fm)) {
            const bool fwd = ctx.process(*d);
            check(!fwd || d->temporalLayer() <= 7);
            check(ctx.currentTemporalLayer() <= 7);
        }
        wrapped.process(pkt.data(), pkt.size(), &fm);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    onePayload(data, size);
    stream(data, size);
    return 0;
}
