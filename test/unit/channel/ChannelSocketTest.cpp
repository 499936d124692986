// The channel sockets over socketpairs standing in for the host's fds:
// what a message nested too deeply gets as an answer, byte for byte, and
// that the channel goes on with the next messages.
#include "channel/ChannelSocket.hpp"

#include "TestLoop.hpp"
#include "channel/Netstring.hpp"

#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using sfu::channel::encodeNetstring;
using sfu::channel::json;

namespace {

// A request with `depth` levels of arrays in its data (plus root and data).
std::string deepRequest(uint32_t id, const std::string& method, size_t depth) {
    return R"({"id":)" + std::to_string(id) + R"(,"method":")" + method +
           R"(","internal":{},"data":{"rtpParameters":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}}";
}

const std::string kTooDeep = "JSON nesting deeper than 64 levels of arrays and objects";

// The host's side of one direction: the worker's end goes to the socket
// (which owns it from then on), ours stays here.
struct HostEnd {
    int host = -1;
    int worker = -1;
    HostEnd() {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
            host = fds[0];
            worker = fds[1];
        }
    }
    ~HostEnd() {
        if (writer.joinable()) {
            writer.join();
        }
        ::close(host);
    }
    HostEnd(const HostEnd&) = delete;
    HostEnd& operator=(const HostEnd&) = delete;

    // Writes from a thread of its own: more than the socket buffer holds
    // goes through only while the loop reads the other end. One write per
    // test keeps the order.
    void write(std::string bytes) {
        writer = std::thread([this, bytes = std::move(bytes)] {
            size_t done = 0;
            while (done < bytes.size()) {
                const ssize_t n = ::send(host, bytes.data() + done, bytes.size() - done, 0);
                if (n <= 0) {
                    ADD_FAILURE() << "send failed";
                    return;
                }
                done += static_cast<size_t>(n);
            }
        });
    }
    // Netstring payloads read so far, without blocking.
    std::vector<std::string> read() {
        char buffer[65536];
        ssize_t n = 0;
        while ((n = ::recv(host, buffer, sizeof(buffer), MSG_DONTWAIT)) > 0) {
            pending.append(buffer, static_cast<size_t>(n));
        }
        std::vector<std::string> out;
        for (;;) {
            const size_t colon = pending.find(':');
            if (colon == std::string::npos) {
                break;
            }
            const size_t length = std::stoul(pending.substr(0, colon));
            if (pending.size() < colon + 1 + length + 1) {
                break;
            }
            out.push_back(pending.substr(colon + 1, length));
            pending.erase(0, colon + 1 + length + 1);
        }
        return out;
    }
    std::string pending;
    std::thread writer;
};

struct Listener : sfu::channel::ChannelSocket::Listener,
                  sfu::channel::PayloadChannelSocket::Listener {
    std::vector<std::pair<uint32_t, std::string>> requests;
    std::vector<std::string> payloads;
    std::vector<std::string> events;
    void onChannelRequest(sfu::channel::Request& request) override {
        requests.emplace_back(request.id(), request.methodName());
    }
    void onChannelEnd() override {}
    void onPayloadNotification(const sfu::channel::PayloadNotification& notification) override {
        events.push_back(std::to_string(static_cast<int>(notification.event)));
        payloads.emplace_back(reinterpret_cast<const char*>(notification.payload),
                              notification.payloadLength);
    }
    void onPayloadRequest(sfu::channel::Request& request) override {
        requests.emplace_back(request.id(), request.methodName());
        payloads.emplace_back(reinterpret_cast<const char*>(request.payload()),
                              request.payloadLength());
    }
};

class ChannelDepthTest : public ::testing::Test {
protected:
    void SetUp() override {
        channel_ = std::make_unique<sfu::channel::ChannelSocket>(loop_.get(), in_.worker,
                                                                 out_.worker, listener_);
        payload_ = std::make_unique<sfu::channel::PayloadChannelSocket>(
            loop_.get(), payloadIn_.worker, payloadOut_.worker, listener_);
    }
    void TearDown() override {
        payload_->close();
        channel_->close();
        loop_.drain();
        payload_.reset();
        channel_.reset();
        loop_.drain();
    }

    // What came on `end` once the loop has run what is pending.
    std::vector<std::string> readNow(HostEnd& end) {
        loop_.drain();
        return end.read();
    }

    // Runs the loop until `count` messages came on `end` (or 2 s passed).
    std::vector<std::string> readSome(HostEnd& end, size_t count) {
        std::vector<std::string> got;
        loop_.runUntil([&] {
            for (auto& message : end.read()) {
                got.push_back(std::move(message));
            }
            return got.size() >= count;
        });
        loop_.drain();
        for (auto& message : end.read()) {
            got.push_back(std::move(message));
        }
        return got;
    }

    sfu::test::TestLoop loop_;
    HostEnd in_, out_, payloadIn_, payloadOut_;
    Listener listener_;
    std::unique_ptr<sfu::channel::ChannelSocket> channel_;
    std::unique_ptr<sfu::channel::PayloadChannelSocket> payload_;
};

} // namespace

TEST_F(ChannelDepthTest, DeepRequestIsAnsweredAndTheNextOneHandled) {
    in_.write(encodeNetstring(deepRequest(41, "transport.produce", 200000)) +
              encodeNetstring(R"({"id":42,"method":"worker.dump"})"));
    ASSERT_TRUE(loop_.runUntil([&] { return listener_.requests.size() == 1; }));
    EXPECT_EQ(listener_.requests[0], (std::pair<uint32_t, std::string>(42, "worker.dump")));
    const auto out = readSome(out_, 1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R"({"error":"Error","id":41,"reason":")" + kTooDeep + R"("})");
}

TEST_F(ChannelDepthTest, DeepMessageWithoutIdIsDropped) {
    // No id, then an id but no method, then not even JSON: nothing to
    // answer, and the request after them is handled.
    in_.write(encodeNetstring(R"({"method":"worker.dump","data":)" + std::string(1000, '[') +
                              std::string(1000, ']') + "}") +
              encodeNetstring(R"({"id":5,"data":)" + std::string(1000, '[') +
                              std::string(1000, ']') + "}") +
              encodeNetstring(std::string(100000, '[')) +
              encodeNetstring(R"({"id":6,"method":"worker.dump"})"));
    ASSERT_TRUE(loop_.runUntil([&] { return listener_.requests.size() == 1; }));
    EXPECT_EQ(listener_.requests[0].first, 6u);
    EXPECT_TRUE(readNow(out_).empty());
}

TEST_F(ChannelDepthTest, DeepPayloadRequestIsAnsweredAndItsPayloadSkipped) {
    // A payload that would be a valid request if taken as a message.
    const std::string trap = R"({"id":99,"method":"dataConsumer.send"})";
    payloadIn_.write(
        encodeNetstring(deepRequest(7, "dataConsumer.send", 5000)) + encodeNetstring(trap) +
        encodeNetstring(R"({"id":8,"method":"dataConsumer.send"})") + encodeNetstring("hello"));
    ASSERT_TRUE(loop_.runUntil([&] { return !listener_.requests.empty(); }));
    ASSERT_EQ(listener_.requests.size(), 1u);
    EXPECT_EQ(listener_.requests[0].first, 8u);
    EXPECT_EQ(listener_.payloads[0], "hello");
    const auto out = readSome(payloadOut_, 1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R"({"error":"Error","id":7,"reason":")" + kTooDeep + R"("})");
}

TEST_F(ChannelDepthTest, DeepPayloadNotificationIsDroppedWithItsPayload) {
    const std::string deep = R"({"event":"producer.send","internal":{},"data":)" +
                             std::string(300, '[') + std::string(300, ']') + "}";
    payloadIn_.write(encodeNetstring(deep) + encodeNetstring(R"({"event":"producer.send"})") +
                     encodeNetstring(R"({"event":"transport.sendRtcp","internal":{}})") +
                     encodeNetstring("rtcp"));
    ASSERT_TRUE(loop_.runUntil([&] { return !listener_.events.empty(); }));
    loop_.drain();
    ASSERT_EQ(listener_.events.size(), 1u);
    EXPECT_EQ(listener_.events[0],
              std::to_string(static_cast<int>(sfu::channel::PayloadEvent::TransportSendRtcp)));
    EXPECT_EQ(listener_.payloads[0], "rtcp");
    EXPECT_TRUE(readNow(payloadOut_).empty());
}
