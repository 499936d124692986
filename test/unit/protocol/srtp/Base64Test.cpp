#include "protocol/srtp/Base64.hpp"

#include "TestUtil.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace sfu::srtp;
using sfu::test::bytesOf;

namespace {

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64Encode(bytesOf(plain)), encoded);
        const auto decoded = base64Decode(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(*decoded, bytesOf(plain));
    }
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
    for (size_t length = 0; length < 70; ++length) {
        std::vector<uint8_t> data(length);
        for (size_t i = 0; i < length; ++i) {
            data[i] = static_cast<uint8_t>(255 - i * 37 + length);
        }
        const std::string text = base64Encode(data);
        EXPECT_EQ(text.size(), (length + 2) / 3 * 4);
        EXPECT_EQ(base64Decode(text), data);
    }
    std::vector<uint8_t> all(256);
    for (size_t i = 0; i < all.size(); ++i) {
        all[i] = static_cast<uint8_t>(i);
    }
    EXPECT_EQ(base64Decode(base64Encode(all)), all);
}

TEST(Base64, DecodesAnSdesKey) {
    // 30 bytes: an AES_CM_128 master key and salt, no padding needed.
    const auto key = base64Decode("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->size(), 30u);
}

TEST(Base64, RejectsMalformedInput) {
    for (const char* bad : {
             "Zg",             // not a multiple of 4
             "Zg=",            // not a multiple of 4
             "Zm9vY",          // not a multiple of 4
             "Z===",           // three '='
             "====",           // padding only
             "Zg=a",           // '=' before data
             "Zg==Zg==",       // padding in the middle
             "Zm9v====",       // a whole group of padding
             "Zh==",           // unused bits set
             "Zm9=",           // unused bits set
             "Zm9v\n",         // whitespace
             " Zm9",           // whitespace
             "Zm-v",           // URL-safe alphabet
             "Zm_v",           // URL-safe alphabet
             "Zm9v\xc3\xa9Zg", // non-ASCII
         }) {
        EXPECT_FALSE(base64Decode(bad)) << bad;
    }
    const std::string withNul("Zm\0v", 4);
    EXPECT_FALSE(base64Decode(withNul));
}

} // namespace
