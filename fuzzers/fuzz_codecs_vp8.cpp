// VP8: the input is parsed as one payload, rewritten on a copy and parsed
// again; then read as a stream for one consumer: a target octet, then
// packets, each behind a length octet (0 = the source switches streams).
#include "FuzzUtil.hpp"
#include "protocol/codecs/Codecs.hpp"
#include "protocol/codecs/Vp8.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace sfu::codecs;
using sfu::fuzz::check;

namespace {

void onePayload(const uint8_t* data, size_t size) {
    std::vector<uint8_t> copy(data, data + size);
    const auto d = vp8::PayloadDescriptor::parse(copy.data(), copy.size());
    if (!d) {
        return;
    }
    check(d->headerLength >= 1 && d->headerLength < size);
    check(!d->isKeyFrame || d->isStartOfFrame);
    check(d->temporalLayer() <= 3);
    sfu::fuzz::checkIdRewrite(copy, *d, 0x5A5A, 0xA5);
    const auto info = parsePayload(Codec::Vp8, data, size);
    check(info.has_value() && info->isKeyFrame == d->isKeyFrame);
}

void stream(const uint8_t* data, size_t size) {
    if (size < 1) {
        return;
    }
    vp8::EncodingContext ctx;
    ctx.setTargetTemporalLayer(data[0] & 0x03);
    EncodingContext wrapped(Codec::Vp8);
    wrapped.setTargetLayers(0, data[0] >> 6);
    sfu::fuzz::forEachPacket(
        data, size, 1,
        [&](std::vector<uint8_t>& pkt) {
            // The wrapper gets its own copy: the context rewrites `pkt`.
            std::vector<uint8_t> pkt2 = pkt;
            if (const auto d = vp8::PayloadDescriptor::parse(pkt.data(), pkt.size())) {
                if (ctx.process(*d, pkt.data(), pkt.size())) {
                    const auto out = vp8::PayloadDescriptor::parse(pkt.data(), pkt.size());
                    check(out.has_value() && out->headerLength == d->headerLength);
                }
                check(ctx.currentTemporalLayer() <= 3);
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
