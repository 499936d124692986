// Feeds arbitrary bytes to the channel's netstring decoder in arbitrary
// pieces, and every decoded message to the request parser, as the worker
// does with what arrives on fd 3.
#include "channel/Netstring.hpp"
#include "channel/Request.hpp"

#include <cstddef>
#include <cstdint>

namespace {

struct NullResponder : sfu::channel::Responder {
    void sendResponse(const sfu::channel::json& response) override { (void)response.dump(); }
};

struct RequestSink : sfu::channel::NetstringDecoder::Listener {
    NullResponder responder;
    void onNetstring(const uint8_t* data, size_t length) override {
        try {
            auto request = sfu::channel::Request::parse(data, length, &responder);
            (void)request.method();
            try {
                (void)request.internalId("routerId");
            } catch (const sfu::channel::json::exception&) {
            } catch (const std::exception&) {
            }
            request.accept(request.data());
        } catch (const sfu::channel::MalformedRequest&) {
        } catch (const sfu::channel::MessageTooDeep& e) {
            (void)e.response().dump(); // the worker answers it (ChannelSocket)
        }
    }
    void onNetstringError(const char*) override {}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    // The first byte picks the read size, so the fuzzer explores how
    // messages split across reads.
    const size_t chunk = 1 + data[0] % 64;
    RequestSink sink;
    sfu::channel::NetstringDecoder decoder(sink);
    for (size_t off = 1; off < size; off += chunk) {
        decoder.feed(data + off, std::min(chunk, size - off));
    }
    return 0;
}
