#include "protocol/ice/Rfc4571.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using sfu::ice::Rfc4571Decoder;

namespace {

struct Frames : Rfc4571Decoder::Listener {
    std::vector<std::vector<uint8_t>> frames;
    void onFrame(const uint8_t* data, size_t length) override {
        frames.emplace_back(data, data + length);
    }
};

std::vector<uint8_t> frame(size_t length, uint8_t fill) {
    std::vector<uint8_t> out(2 + length, fill);
    sfu::ice::writeRfc4571Header(out.data(), length);
    return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

} // namespace

TEST(Rfc4571, CoalescedFramesInOneRead) {
    const auto wire = concat({frame(3, 0xAA), frame(1, 0xBB), frame(100, 0xCC)});
    Rfc4571Decoder decoder;
    Frames out;
    ASSERT_TRUE(decoder.feed(wire.data(), wire.size(), out));
    ASSERT_EQ(out.frames.size(), 3u);
    EXPECT_EQ(out.frames[0], std::vector<uint8_t>(3, 0xAA));
    EXPECT_EQ(out.frames[1], std::vector<uint8_t>(1, 0xBB));
    EXPECT_EQ(out.frames[2].size(), 100u);
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(Rfc4571, EverySplitPoint) {
    const auto wire = concat({frame(5, 1), frame(7, 2)});
    for (size_t cut = 0; cut <= wire.size(); ++cut) {
        Rfc4571Decoder decoder;
        Frames out;
        ASSERT_TRUE(decoder.feed(wire.data(), cut, out));
        ASSERT_TRUE(decoder.feed(wire.data() + cut, wire.size() - cut, out));
        ASSERT_EQ(out.frames.size(), 2u) << "cut " << cut;
        EXPECT_EQ(out.frames[0], std::vector<uint8_t>(5, 1));
        EXPECT_EQ(out.frames[1], std::vector<uint8_t>(7, 2));
    }
}

TEST(Rfc4571, ByteByByte) {
    const auto wire = concat({frame(300, 9), frame(2, 8)});
    Rfc4571Decoder decoder;
    Frames out;
    for (uint8_t b : wire) {
        ASSERT_TRUE(decoder.feed(&b, 1, out));
    }
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[0].size(), 300u);
}

TEST(Rfc4571, MaximumFrame) {
    const auto wire = frame(65535, 0x5A);
    Rfc4571Decoder decoder;
    Frames out;
    // In uneven pieces.
    for (size_t off = 0; off < wire.size(); off += 4097) {
        ASSERT_TRUE(
            decoder.feed(wire.data() + off, std::min<size_t>(4097, wire.size() - off), out));
    }
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0].size(), 65535u);
    EXPECT_EQ(out.frames[0].back(), 0x5A);
}

TEST(Rfc4571, EmptyFrameIsAnError) {
    const std::vector<uint8_t> wire = {0, 0, 0, 1, 7};
    Rfc4571Decoder decoder;
    Frames out;
    EXPECT_FALSE(decoder.feed(wire.data(), wire.size(), out));
    EXPECT_TRUE(out.frames.empty());
}

TEST(Rfc4571, StopEndsDelivery) {
    struct StopAfterFirst : Rfc4571Decoder::Listener {
        Rfc4571Decoder* decoder = nullptr;
        int count = 0;
        void onFrame(const uint8_t*, size_t) override {
            ++count;
            decoder->stop();
        }
    };
    const auto wire = concat({frame(1, 1), frame(1, 2)});
    Rfc4571Decoder decoder;
    StopAfterFirst listener;
    listener.decoder = &decoder;
    decoder.feed(wire.data(), wire.size(), listener);
    EXPECT_EQ(listener.count, 1);
}
