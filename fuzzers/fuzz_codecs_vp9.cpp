// VP9: the input is parsed as one payload, rewritten on a copy and parsed
// again; then read as a stream for one consumer: a targets octet, then
// packets, each behind a length octet (0 = the source switches streams).
#include "FuzzUtil.hpp"
#include "protocol/codecs/Codecs.hpp"
#include "protocol/codecs/Vp9.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace sfu::codecs;
using sfu::fuzz::check;

namespace {

void onePayload(const uint8_t* data, size_t size) {
    std::vector<uint8_t> copy(data, data + size);
    const auto d = vp9::PayloadDescriptor::parse(copy.data(), copy.size());
    if (!d) {
        return;
    }
    check(d->headerLength >= 1 && d->headerLength < size);
    check(d->numPDiffs <= 3);
    if (d->hasScalabilityStructure) {
        check(d->ss.numSpatialLayers >= 1 && d->ss.numSpatialLayers <= 8);
        check(d->ss.storedPictureGroups() <= vp9::ScalabilityStructure::kMaxStoredPictureGroups);
    }
    check(!d->hasFrameSize || (d->isKeyFrame && d->width > 0 && d->height > 0));
    sfu::fuzz::checkIdRewrite(copy, *d, 0x1234, 0x77);
    const auto info = parsePayload(Codec::Vp9, data, size);
    check(info.has_value() && info->isKeyFrame == d->isKeyFrame);
}

void stream(const uint8_t* data, size_t size) {
    if (size < 1) {
        return;
    }
    vp9::EncodingContext ctx;
    ctx.setTargetSpatialLayer(data[0] & 0x07);
    ctx.setTargetTemporalLayer((data[0] >> 3) & 0x07);
    EncodingContext wrapped(Codec::Vp9);
    wrapped.setTargetLayers(data[0] >> 5, data[0] & 0x07);
    sfu::fuzz::forEachPacket(
        data, size, 1,
        [&](std::vector<uint8_t>& pkt) {
            // The wrapper gets its own copy: the context rewrites `pkt`.
            std::vector<uint8_t> pkt2 = pkt;
            if (const auto d = vp9::PayloadDescriptor::parse(pkt.data(), pkt.size())) {
                const std::vector<uint8_t> original = pkt;
                const auto r = ctx.process(*d, pkt.data(), pkt.size());
                check(!r.setMarker || r.forward);
                if (r.forward) {
                    const auto out = vp9::PayloadDescriptor::parse(pkt.data(), pkt.size());
                    check(out.has_value() && out->headerLength == d->headerLength);
                    check(out->spatialLayer() <= ctx.currentSpatialLayer());
                    // Resent right away, it is what was just sent.
                    std::vector<uint8_t> again = original;
                    sfu::codecs::PayloadRewrite rewrite;
                    check(ctx.rewriteResend(*d, rewrite));
                    check(rewrite.apply(again.data(), again.size()) && again == pkt);
                }
            }
            wrapped.process(pkt2.data(), pkt2.size());
        },
        [&] {
            ctx.requestSync();
            wrapped.requestSync();
        });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    onePayload(data, size);
    stream(data, size);
    return 0;
}
