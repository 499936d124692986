#include "channel/Netstring.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using sfu::channel::encodeNetstring;
using sfu::channel::kMaxNetstringPayload;
using sfu::channel::NetstringDecoder;

namespace {

struct Collector : NetstringDecoder::Listener {
    std::vector<std::string> messages;
    std::vector<std::string> errors;
    void onNetstring(const uint8_t* data, size_t length) override {
        messages.emplace_back(reinterpret_cast<const char*>(data), length);
    }
    void onNetstringError(const char* reason) override { errors.emplace_back(reason); }
};

class NetstringDecoderTest : public ::testing::Test {
protected:
    void feed(const std::string& bytes) {
        decoder.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    Collector out;
    NetstringDecoder decoder{out};
};

} // namespace

TEST(NetstringEncode, FormatsLengthColonPayloadComma) {
    EXPECT_EQ(encodeNetstring("hello"), "5:hello,");
    EXPECT_EQ(encodeNetstring(""), "0:,");
    EXPECT_EQ(encodeNetstring(std::string(12, 'x')), "12:xxxxxxxxxxxx,");
}

TEST_F(NetstringDecoderTest, DecodesOneMessage) {
    feed("5:hello,");
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0], "hello");
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST_F(NetstringDecoderTest, DecodesEmptyPayload) {
    feed("0:,");
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0], "");
}

TEST_F(NetstringDecoderTest, DecodesManyMessagesInOneRead) {
    feed("1:a,2:bc,0:,3:def,");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"a", "bc", "", "def"}));
}

TEST_F(NetstringDecoderTest, DecodesMessageSplitAtEveryByte) {
    const std::string wire = "11:hello world,2:ok,";
    for (char c : wire) {
        feed(std::string(1, c));
    }
    EXPECT_EQ(out.messages, (std::vector<std::string>{"hello world", "ok"}));
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST_F(NetstringDecoderTest, DecodesEverySplitPointOfTwoMessages) {
    const std::string wire = "3:abc,4:defg,";
    for (size_t cut = 0; cut <= wire.size(); ++cut) {
        Collector c;
        NetstringDecoder d(c);
        d.feed(reinterpret_cast<const uint8_t*>(wire.data()), cut);
        d.feed(reinterpret_cast<const uint8_t*>(wire.data()) + cut, wire.size() - cut);
        EXPECT_EQ(c.messages, (std::vector<std::string>{"abc", "defg"})) << "cut at " << cut;
        EXPECT_TRUE(c.errors.empty());
    }
}

TEST_F(NetstringDecoderTest, KeepsIncompleteTailBuffered) {
    feed("5:hel");
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(decoder.buffered(), 5u);
    feed("lo,3:ab");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"hello"}));
    EXPECT_EQ(decoder.buffered(), 4u);
}

TEST_F(NetstringDecoderTest, AcceptsMaximumPayload) {
    const std::string payload(kMaxNetstringPayload, 'z');
    const std::string wire = encodeNetstring(payload);
    EXPECT_EQ(wire.size(), sfu::channel::kMaxNetstringLength);
    // Delivered in pipe-sized pieces, as a real read loop would.
    for (size_t off = 0; off < wire.size(); off += 65536) {
        feed(wire.substr(off, 65536));
    }
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].size(), kMaxNetstringPayload);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST_F(NetstringDecoderTest, RejectsOversizedLengthBeforePayloadArrives) {
    feed("4194305:");
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(decoder.buffered(), 0u);
    // The stream starts over afterwards.
    feed("2:ok,");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"ok"}));
}

TEST_F(NetstringDecoderTest, RejectsTooManyDigits) {
    feed("99999999999999");
    EXPECT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST_F(NetstringDecoderTest, WaitsForMoreDigits) {
    feed("12");
    EXPECT_TRUE(out.errors.empty());
    feed("34");
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(decoder.buffered(), 4u);
}

TEST_F(NetstringDecoderTest, RejectsGarbageAndRecovers) {
    const std::vector<std::string> garbage = {"abc:xyz,", ":x,",    "12x:",   "-1:a,",
                                              "01:a,",    "3:abcX", "3;abc,", " 3:abc,"};
    for (const auto& g : garbage) {
        Collector c;
        NetstringDecoder d(c);
        d.feed(reinterpret_cast<const uint8_t*>(g.data()), g.size());
        EXPECT_EQ(c.errors.size(), 1u) << "input: " << g;
        EXPECT_TRUE(c.messages.empty()) << "input: " << g;
        EXPECT_EQ(d.buffered(), 0u);
        const std::string good = "2:ok,";
        d.feed(reinterpret_cast<const uint8_t*>(good.data()), good.size());
        EXPECT_EQ(c.messages, (std::vector<std::string>{"ok"})) << "after: " << g;
    }
}

TEST_F(NetstringDecoderTest, MessagesBeforeGarbageAreDelivered) {
    feed("2:ok,zzz");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"ok"}));
    EXPECT_EQ(out.errors.size(), 1u);
}

TEST_F(NetstringDecoderTest, GarbageAfterBufferedPartDropsEverything) {
    feed("5:he");
    feed("llo!");
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(decoder.buffered(), 0u);
}

TEST_F(NetstringDecoderTest, ResetDropsPartialMessage) {
    feed("5:he");
    decoder.reset();
    EXPECT_EQ(decoder.buffered(), 0u);
    feed("2:ok,");
    EXPECT_EQ(out.messages, (std::vector<std::string>{"ok"}));
}

TEST_F(NetstringDecoderTest, BinaryPayloadWithCommasAndNul) {
    const std::string payload("a,\0:b,", 6);
    feed(encodeNetstring(payload));
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0], payload);
}
