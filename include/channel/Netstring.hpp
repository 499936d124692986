// Netstring framing (`<decimal length>:<bytes>,`) for the channels. The
// decoder accepts any split of the byte stream: many netstrings per read,
// one netstring over many reads. On garbage it reports the error and drops
// everything buffered so that the stream can start over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::channel {

// Largest payload either side accepts, and the netstring carrying it.
constexpr size_t kMaxNetstringPayload = 4194304;
constexpr size_t kMaxNetstringLength = 4194313; // "4194304:" + payload + ","
// The digits of kMaxNetstringPayload; a longer length prefix is garbage.
constexpr size_t kMaxLengthDigits = 7;

class NetstringDecoder {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        // `data` is valid only during the call.
        virtual void onNetstring(const uint8_t* data, size_t length) = 0;
        // The decoder has already dropped its buffered bytes.
        virtual void onNetstringError(const char* reason) = 0;
    };

    explicit NetstringDecoder(Listener& listener) : listener_(listener) {}

    void feed(const uint8_t* data, size_t length);
    void reset();
    // Bytes held for an incomplete netstring.
    size_t buffered() const { return buffer_.size(); }

private:
    enum class Step { Complete, NeedMore, Garbage };
    // Decodes one netstring at the front of [data, data + length).
    Step decodeOne(const uint8_t* data, size_t length, size_t& consumed, const char*& error);
    // Decodes every complete netstring in the range; returns the bytes
    // consumed, or SIZE_MAX after garbage.
    size_t decodeAll(const uint8_t* data, size_t length);

    Listener& listener_;
    std::vector<uint8_t> buffer_;
};

// Writes the "<length>:" prefix into `out` (at least 16 bytes) and returns
// its size.
size_t writeNetstringHeader(size_t payloadLength, char* out);

// A whole netstring as a string; for the control path and tests.
std::string encodeNetstring(std::string_view payload);

} // namespace sfu::channel
