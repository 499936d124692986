// Parses arbitrary bytes as RTP, reads every field and typed extension, then
// mutates a copy with spare capacity (add, remove, remap, form conversions,
// RTX round trip, padding, payload shifts), checking after each step that
// the bytes still parse to exactly what the view reports.
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

using namespace sfu::rtp;

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// Reads everything; the sanitizers flag any access outside the packet.
uint64_t readAll(const RtpPacket& packet) {
    uint64_t sum = packet.version() + packet.hasPadding() + packet.hasHeaderExtension() +
                   packet.marker() + packet.payloadType() + packet.sequenceNumber() +
                   packet.timestamp() + packet.ssrc() + packet.paddingLength() +
                   packet.isPaddingOnly() + packet.extensionProfile();
    for (size_t i = 0; i < packet.csrcCount(); ++i) {
        sum += packet.csrc(i);
    }
    for (size_t i = 0; i < packet.payloadLength(); ++i) {
        sum += packet.payload()[i];
    }
    for (const uint8_t byte : packet.extensionBlock()) {
        sum += byte;
    }
    check(packet.headerSize() + packet.payloadLength() + packet.paddingLength() == packet.size());
    for (size_t i = 0; i < packet.extensionCount(); ++i) {
        const ExtensionElement element = packet.extensionAt(i);
        check(packet.hasExtension(element.id));
        check(packet.extension(element.id).data() == element.value.data());
        // The packet-level reader agrees with the value reader.
        const auto level = packetAudioLevel(packet, element.id);
        check(level.has_value() == readAudioLevel(element.value).has_value());
        if (level) {
            check(level->level <= 127);
            sum += level->level;
        }
    }
    check(!packetAudioLevel(packet, 0).has_value());
    return sum;
}

uint64_t readTyped(std::span<const uint8_t> value) {
    uint64_t sum = 0;
    for (const uint8_t byte : value) {
        sum += byte;
    }
    if (auto sdes = readSdes(value)) {
        sum += sdes->size();
    }
    sum += readAbsSendTime(value).value_or(0);
    sum += readTransportWideSeq(value).value_or(0);
    if (auto level = readAudioLevel(value)) {
        sum += level->level;
    }
    if (auto orientation = readVideoOrientation(value)) {
        sum += orientation->rotation;
    }
    sum += static_cast<uint64_t>(readTimeOffset(value).value_or(0));
    if (auto marking = readFrameMarking(value)) {
        sum += marking->tl0PicIdx + marking->temporalId;
    }
    return sum;
}

// Every lookup, present or not, through every typed reader.
uint64_t readEveryId(const RtpPacket& packet) {
    uint64_t sum = 0;
    for (int id = 0; id < 256; ++id) {
        sum += readTyped(packet.extension(static_cast<uint8_t>(id)));
    }
    return sum;
}

// The view must agree with a fresh parse of its bytes.
void checkConsistent(const RtpPacket& packet) {
    auto reparsed =
        RtpPacket::parse(const_cast<uint8_t*>(packet.data()), packet.size(), packet.capacity());
    check(reparsed.has_value());
    check(reparsed->headerSize() == packet.headerSize());
    check(reparsed->paddingLength() == packet.paddingLength());
    check(reparsed->extensionForm() == packet.extensionForm());
    check(reparsed->extensionCount() == packet.extensionCount());
    for (size_t i = 0; i < packet.extensionCount(); ++i) {
        const ExtensionElement a = packet.extensionAt(i);
        const ExtensionElement b = reparsed->extensionAt(i);
        check(a.id == b.id && a.value.data() == b.value.data() && a.value.size() == b.value.size());
        readTyped(a.value);
    }
}

// Pulls control bytes from the end of the input.
class Choices {
public:
    Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    uint8_t next() { return size_ == 0 ? 0 : data_[--size_]; }

private:
    const uint8_t* data_;
    size_t size_;
};

constexpr size_t kSlack = 600;
constexpr size_t kMaxInput = 4096;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxInput) {
        return 0;
    }
    // Exact-size copy so that any overread hits a redzone.
    auto* exact = static_cast<uint8_t*>(std::malloc(size == 0 ? 1 : size));
    if (size > 0) {
        std::memcpy(exact, data, size);
    }
    auto packet = RtpPacket::parse(exact, size);
    if (!packet) {
        std::free(exact);
        return 0;
    }
    volatile uint64_t sink = readAll(*packet) + readEveryId(*packet);

    static std::array<uint8_t, kMaxInput + kSlack> room;
    static std::array<uint8_t, kMaxInput + kSlack> original;
    std::memcpy(room.data(), exact, size);
    std::memcpy(original.data(), exact, size);
    Choices choices(data, size);
    const size_t capacity = size + choices.next() % kSlack;
    auto work = RtpPacket::parse(room.data(), size, capacity);
    check(work.has_value());

    // RTX round trip restores every byte.
    if (work->rtxEncode(choices.next(), 0x01020304, choices.next())) {
        checkConsistent(*work);
        check(work->rtxDecode(packet->payloadType(), packet->ssrc()));
        check(work->size() == size && std::memcmp(room.data(), original.data(), size) == 0);
    }

    for (int step = 0; step < 12; ++step) {
        const uint8_t op = choices.next();
        const uint8_t id = choices.next();
        switch (op % 9) {
        case 0: {
            std::array<uint8_t, 255> value{};
            const size_t length = choices.next() % 24;
            for (size_t i = 0; i < length; ++i) {
                value[i] = choices.next();
            }
            const bool added = work->addExtension(id, {value.data(), length});
            if (added) {
                check(work->hasExtension(id));
                check(work->extension(id).size() == length);
                check(std::memcmp(work->extension(id).data(), value.data(), length) == 0);
            }
            break;
        }
        case 1:
            work->removeExtension(id);
            check(!work->hasExtension(id));
            break;
        case 2: {
            ExtensionIdMap map;
            for (int i = 0; i < 4; ++i) {
                map.set(choices.next(), choices.next());
            }
            work->remapExtensionIds(map);
            break;
        }
        case 3:
            work->setExtensionForm(static_cast<ExtensionForm>(id % 4));
            break;
        case 4:
            work->compactExtensions();
            break;
        case 5:
            work->setPaddingLength(id);
            break;
        case 6:
            work->shiftPayload(choices.next() % 64, static_cast<int8_t>(id) / 4);
            break;
        case 7:
            setAbsSendTime(*work, id, 0x123456);
            setTransportWideSeq(*work, choices.next(), 77);
            setSdes(*work, choices.next(), "mid");
            break;
        case 8: {
            const uint16_t seq = work->sequenceNumber();
            const uint8_t pt = work->payloadType();
            const uint32_t ssrc = work->ssrc();
            if (work->rtxEncode(97, 5, 6)) {
                check(work->rtxDecode(pt, ssrc));
                check(work->sequenceNumber() == seq);
            }
            break;
        }
        }
        check(work->size() <= capacity);
        checkConsistent(*work);
        sink = sink + readAll(*work);
    }

    std::free(exact);
    return 0;
}
