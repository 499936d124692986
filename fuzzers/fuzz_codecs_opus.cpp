// Opus: the input is parsed as one payload; whatever parses must keep to
// RFC 6716's limits.
#include "FuzzUtil.hpp"
#include "protocol/codecs/Codecs.hpp"
#include "protocol/codecs/Opus.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace sfu::codecs;
using sfu::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<uint8_t> copy(data, data + size);
    const auto d = opus::PayloadDescriptor::parse(copy.data(), copy.size());
    if (d) {
        check(size >= 1);
        check(d->config < 32);
        check(d->frameCount >= 1 && d->frameCount <= 48);
        check(d->packetDurationUs <= 120'000);
        check(d->packetDurationUs == d->frameCount * d->frameDurationUs);
        check(d->isDtx == (size <= 2));
        check(d->frameCountCode == 3 || d->paddingLength == 0);
        check(size <= 2 + d->paddingLength + size_t{d->frameCount} * (1275 + 2));
    }
    const auto info = parsePayload(codecFromMimeType("audio/OPUS"), copy.data(), copy.size());
    check(info.has_value() == d.has_value());
    EncodingContext ctx(Codec::Opus);
    const auto r = ctx.process(copy.data(), copy.size());
    check(r.forward && r.parsed == d.has_value());
    return 0;
}
