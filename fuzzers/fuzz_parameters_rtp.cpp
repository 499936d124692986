// Arbitrary bytes as JSON through every parameter parser. Properties checked:
// the only exception a parser may throw is sfu::TypeError, and whatever it
// accepts serialises to JSON that parses back to the same value.
#include "protocol/parameters/RtpMapping.hpp"
#include "protocol/parameters/RtpParameters.hpp"
#include "protocol/parameters/SctpParameters.hpp"
#include "utils/Errors.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using namespace sfu::params;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

template <typename T, typename Parse>
std::optional<T> roundTrip(const json& in, Parse parse) {
    std::optional<T> first;
    try {
        first = parse(in);
    } catch (const sfu::TypeError&) {
        return std::nullopt;
    }
    const json out = toJson(*first);
    // Serialising must not throw either (the channel writes dumps as text).
    const std::string text = out.dump();
    T second;
    try {
        second = parse(json::parse(text));
    } catch (const sfu::TypeError&) {
        fail("own output rejected");
    }
    if (!(second == *first)) {
        fail("value changed by a round trip");
    }
    if (toJson(second) != out) {
        fail("toJson not stable");
    }
    return first;
}

// Touches the derived accessors so they run on every accepted input.
void inspect(const RtpParameters& params) {
    (void)classify(params);
    for (const auto& enc : params.encodings) {
        (void)enc.scalability();
        (void)params.codecForEncoding(enc);
    }
    for (const auto& codec : params.codecs) {
        (void)codec.apt();
        (void)codec.supportsTransportCc();
        (void)params.rtxCodecFor(codec.payloadType);
    }
    (void)params.headerExtensionId(HeaderExtensionUri::Mid);
}

json member(const json& doc, const char* key) {
    if (!doc.is_object()) {
        return json();
    }
    const auto it = doc.find(key);
    return it == doc.end() ? json() : *it;
}

void fuzzDocument(const json& doc) {
    if (auto params = roundTrip<RtpParameters>(doc, parseRtpParameters)) {
        inspect(*params);
    }
    roundTrip<RtpMapping>(doc, parseRtpMapping);
    roundTrip<std::vector<RtpEncodingParameters>>(doc, parseConsumableRtpEncodings);
    roundTrip<SctpStreamParameters>(doc, parseSctpStreamParameters);

    // The request shapes: produce, consume and produceData bodies.
    const auto params = roundTrip<RtpParameters>(member(doc, "rtpParameters"), parseRtpParameters);
    if (params) {
        inspect(*params);
    }
    const auto mapping = roundTrip<RtpMapping>(member(doc, "rtpMapping"), parseRtpMapping);
    if (params && mapping) {
        try {
            checkRtpMapping(*mapping, *params);
        } catch (const sfu::TypeError&) {
        }
    }
    roundTrip<std::vector<RtpEncodingParameters>>(member(doc, "consumableRtpEncodings"),
                                                  parseConsumableRtpEncodings);
    roundTrip<SctpStreamParameters>(member(doc, "sctpStreamParameters"), parseSctpStreamParameters);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const json doc = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return 0;
    }
    fuzzDocument(doc);
    return 0;
}
