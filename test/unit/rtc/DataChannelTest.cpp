// Data channels end to end in process: a PlainTransport with SCTP in a
// router, and a peer SCTP association on a loopback UDP socket of the test
// (SCTP over plain UDP, ports 5000). The peer sends on the stream of a
// DataProducer and reads what the transport's DataConsumers send back.
#include "protocol/sctp/SctpAssociation.hpp"
#include "rtc/RouterFixture.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <deque>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using sfu::channel::json;
using sfu::sctp::SctpAssociation;

struct Message {
    uint16_t streamId;
    uint32_t ppid;
    std::vector<uint8_t> data;
};

// The far end: an SCTP association on a UDP socket of its own.
class Peer : public SctpAssociation::Listener {
public:
    Peer() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local));
        socklen_t length = sizeof(local);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
        port_ = ntohs(local.sin_port);
        SctpAssociation::Options options;
        options.os = 256;
        options.mis = 256;
        association_ = std::make_unique<SctpAssociation>(options, *this);
    }
    ~Peer() override {
        association_.reset();
        ::close(fd_);
    }

    uint16_t port() const { return port_; }
    SctpAssociation& association() { return *association_; }
    void connectTo(uint16_t port) {
        remote_.sin_family = AF_INET;
        remote_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        remote_.sin_port = htons(port);
        association_->connect();
    }
    // Reads what the worker sent; while `deaf`, it is read and thrown away
    // (the peer neither receives nor acknowledges it).
    void poll() {
        uint8_t buffer[65536];
        ssize_t n = 0;
        while ((n = ::recv(fd_, buffer, sizeof(buffer), 0)) > 0) {
            if (!deaf) {
                association_->receivePacket(buffer, static_cast<size_t>(n));
            }
        }
    }
    void sendRaw(const std::vector<uint8_t>& datagram) {
        ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&remote_),
                 sizeof(remote_));
    }
    void send(uint16_t streamId, uint32_t ppid, const std::vector<uint8_t>& data) {
        sfu::sctp::SendParameters parameters;
        parameters.streamId = streamId;
        ASSERT_EQ(association_->sendMessage(parameters, ppid, data.data(), data.size()),
                  SctpAssociation::SendResult::Sent);
    }

    std::vector<Message> messages;
    std::set<uint16_t> resetStreams;
    bool deaf = false;

private:
    void onSctpStateChanged(sfu::sctp::State) override {}
    void onSctpSendPacket(const uint8_t* data, size_t length) override {
        ::sendto(fd_, data, length, 0, reinterpret_cast<sockaddr*>(&remote_), sizeof(remote_));
    }
    void onSctpMessage(uint16_t streamId, uint32_t ppid, const uint8_t* data,
                       size_t length) override {
        messages.push_back({streamId, ppid, std::vector<uint8_t>(data, data + length)});
    }
    void onSctpIncomingStreamReset(uint16_t streamId) override { resetStreams.insert(streamId); }
    void onSctpBufferedAmount(uint32_t) override {}

    int fd_;
    uint16_t port_ = 0;
    sockaddr_in remote_{};
    std::unique_ptr<SctpAssociation> association_;
};

class DataChannel : public sfu::test::RouterFixture {
protected:
    void SetUp() override {
        RouterFixture::SetUp();
        peer_ = std::make_unique<Peer>();
    }
    void TearDown() override {
        peer_.reset();
        RouterFixture::TearDown();
    }

    // A PlainTransport with SCTP connected to the peer, the association up.
    void connect(uint32_t sendBufferSize = 262144) {
        const json answer = request("router.createPlainTransport", {{"transportId", "t"}},
                                    {{"listenIp", {{"ip", "127.0.0.1"}}},
                                     {"rtcpMux", true},
                                     {"comedia", false},
                                     {"enableSctp", true},
                                     {"numSctpStreams", {{"OS", 256}, {"MIS", 256}}},
                                     {"maxSctpMessageSize", 262144},
                                     {"sctpSendBufferSize", sendBufferSize},
                                     {"isDataChannel", false}});
        EXPECT_EQ(answer["sctpState"], "new");
        request("transport.connect", {{"transportId", "t"}},
                {{"ip", "127.0.0.1"}, {"port", peer_->port()}});
        peer_->connectTo(answer["tuple"]["localPort"].get<uint16_t>());
        runUntil([&] { return sctpState() == "connected"; });
        ASSERT_EQ(sctpState(), "connected");
    }

    std::string sctpState() {
        return request("transport.dump", {{"transportId", "t"}}, json::object())["sctpState"];
    }

    void produce(const std::string& id, uint16_t streamId) {
        request("transport.produceData", {{"transportId", "t"}, {"dataProducerId", id}},
                {{"type", "sctp"},
                 {"sctpStreamParameters", {{"streamId", streamId}, {"ordered", true}}},
                 {"label", "l"},
                 {"protocol", "p"}});
    }
    void consume(const std::string& id, const std::string& dataProducerId, uint16_t streamId) {
        request("transport.consumeData",
                {{"transportId", "t"}, {"dataConsumerId", id}, {"dataProducerId", dataProducerId}},
                {{"type", "sctp"},
                 {"sctpStreamParameters", {{"streamId", streamId}, {"ordered", true}}},
                 {"label", "l"},
                 {"protocol", "p"}});
    }
    json dataConsumerStats(const std::string& id) {
        return request("dataConsumer.getStats", {{"transportId", "t"}, {"dataConsumerId", id}},
                       json::object())[0];
    }
    // dataConsumer.send over the payload channel: the whole response.
    json sendFromHost(const std::string& id, const std::vector<uint8_t>& payload) {
        const std::string text = json{
            {"id", ++payloadRequestId_},
            {"method", "dataConsumer.send"},
            {"internal", {{"routerId", "r"}, {"transportId", "t"}, {"dataConsumerId", id}}},
            {"data", {{"ppid", 53}}}}.dump();
        sfu::test::CaptureResponder capture;
        auto req = sfu::channel::Request::parse(reinterpret_cast<const uint8_t*>(text.data()),
                                                text.size(), &capture);
        req.setPayload(payload.data(), payload.size());
        sfu::channel::runRequest(
            req, [&](sfu::channel::Request& r) { router_->handlePayloadRequest(r); });
        return capture.last;
    }

    template <typename F>
    void runUntil(F&& done, int rounds = 600) {
        for (int i = 0; i < rounds && !done(); ++i) {
            uv_run(loop(), UV_RUN_NOWAIT);
            peer_->poll();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    std::unique_ptr<Peer> peer_;
    uint32_t payloadRequestId_ = 0;
};

TEST_F(DataChannel, AssociationStateIsReported) {
    connect();
    const auto changes = env_.events("t", "sctpstatechange");
    ASSERT_GE(changes.size(), 2u);
    EXPECT_EQ(changes.front()["sctpState"], "connecting");
    EXPECT_EQ(changes.back()["sctpState"], "connected");
    EXPECT_EQ(request("transport.getStats", {{"transportId", "t"}}, json::object())[0]["sctpState"],
              "connected");
}

TEST_F(DataChannel, MessagesGoFromTheProducerStreamToEachConsumerStream) {
    connect();
    produce("dp", 3);
    consume("dc1", "dp", 0);
    consume("dc2", "dp", 1);
    const std::vector<uint8_t> text{'h', 'e', 'l', 'l', 'o'};
    // Both copies fit the association's send buffer (262,144 bytes).
    std::vector<uint8_t> big(100000);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<uint8_t>(i * 7);
    }
    peer_->send(3, sfu::sctp::kPpidString, text);
    peer_->send(3, sfu::sctp::kPpidBinary, big);
    runUntil([&] { return peer_->messages.size() >= 4; });
    ASSERT_EQ(peer_->messages.size(), 4u);
    for (uint16_t stream : {0, 1}) {
        std::vector<const Message*> on;
        for (const auto& m : peer_->messages) {
            if (m.streamId == stream) {
                on.push_back(&m);
            }
        }
        ASSERT_EQ(on.size(), 2u) << "stream " << stream;
        EXPECT_EQ(on[0]->ppid, sfu::sctp::kPpidString);
        EXPECT_EQ(on[0]->data, text);
        EXPECT_EQ(on[1]->ppid, sfu::sctp::kPpidBinary);
        EXPECT_EQ(on[1]->data, big);
    }
    const json producerStats = request(
        "dataProducer.getStats", {{"transportId", "t"}, {"dataProducerId", "dp"}}, json::object());
    EXPECT_EQ(producerStats[0]["messagesReceived"], 2);
    EXPECT_EQ(producerStats[0]["bytesReceived"], text.size() + big.size());
    EXPECT_EQ(dataConsumerStats("dc1")["messagesSent"], 2);
    EXPECT_EQ(dataConsumerStats("dc1")["bytesSent"], text.size() + big.size());
}

TEST_F(DataChannel, MessagesUpToTheMaximumSizeGoThroughLargerOnesAreRefused) {
    connect();
    produce("dp", 3);
    consume("dc", "dp", 0);
    std::vector<uint8_t> largest(262144);
    for (size_t i = 0; i < largest.size(); ++i) {
        largest[i] = static_cast<uint8_t>(i % 251);
    }
    peer_->send(3, sfu::sctp::kPpidBinary, largest);
    runUntil([&] { return !peer_->messages.empty(); }, 2000);
    ASSERT_EQ(peer_->messages.size(), 1u);
    EXPECT_EQ(peer_->messages[0].data, largest);

    // From the host: one byte more is a TypeError, nothing sent.
    largest.push_back(0);
    const json response = sendFromHost("dc", largest);
    EXPECT_EQ(response["error"], "TypeError") << response;
    EXPECT_EQ(dataConsumerStats("dc")["messagesSent"], 1);
}

TEST_F(DataChannel, MessagesOnAStreamWithoutProducerAreCountedDrops) {
    connect();
    peer_->send(9, sfu::sctp::kPpidString, {'x'});
    runUntil([&] {
        return request("transport.dump", {{"transportId", "t"}},
                       json::object())["sctpCounters"]["messagesDropped"] == 1;
    });
    EXPECT_EQ(request("transport.dump", {{"transportId", "t"}},
                      json::object())["sctpCounters"]["messagesDropped"],
              1);
}

TEST_F(DataChannel, ClosingADataConsumerResetsItsStream) {
    connect();
    produce("dp", 3);
    consume("dc", "dp", 4);
    request("dataConsumer.close", {{"transportId", "t"}, {"dataConsumerId", "dc"}}, json::object());
    runUntil([&] { return peer_->resetStreams.count(4) == 1; });
    EXPECT_EQ(peer_->resetStreams.count(4), 1u);
}

TEST_F(DataChannel, APeerResetClosesTheProducerAndItsConsumers) {
    connect();
    produce("dp", 3);
    consume("dc", "dp", 0);
    peer_->association().resetStream(3);
    runUntil([&] { return !env_.events("dc", "dataproducerclose").empty(); });
    EXPECT_EQ(env_.events("dc", "dataproducerclose").size(), 1u);
    const json dump = request("router.dump", {{"routerId", "r"}}, json::object());
    EXPECT_TRUE(dump["mapDataProducerIdDataConsumerIds"].empty()) << dump;
    EXPECT_TRUE(dump["mapDataConsumerIdDataProducerId"].empty()) << dump;
    // The close is answered: our side of stream 3 is reset too.
    runUntil([&] { return peer_->resetStreams.count(3) == 1; });
    EXPECT_EQ(peer_->resetStreams.count(3), 1u);
}

TEST_F(DataChannel, InBandOpensAreAcknowledgedOrRefused) {
    connect();
    produce("dp", 3);
    // DATA_CHANNEL_OPEN (RFC 8832 5.1): type 3, reliable, priority 0,
    // label "a", no protocol.
    const std::vector<uint8_t> open{0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x01, 0x00, 0x00, 'a'};
    peer_->send(3, sfu::sctp::kPpidDcep, open);
    runUntil([&] { return !peer_->messages.empty(); });
    ASSERT_EQ(peer_->messages.size(), 1u);
    EXPECT_EQ(peer_->messages[0].streamId, 3);
    EXPECT_EQ(peer_->messages[0].ppid, sfu::sctp::kPpidDcep);
    EXPECT_EQ(peer_->messages[0].data, std::vector<uint8_t>{0x02});

    peer_->send(7, sfu::sctp::kPpidDcep, open);
    runUntil([&] { return peer_->resetStreams.count(7) == 1; });
    EXPECT_EQ(peer_->resetStreams.count(7), 1u);
    EXPECT_EQ(peer_->messages.size(), 1u);
    // The association carries on.
    consume("dc", "dp", 0);
    peer_->send(3, sfu::sctp::kPpidString, {'o', 'k'});
    runUntil([&] { return peer_->messages.size() == 2; });
    ASSERT_EQ(peer_->messages.size(), 2u);
    EXPECT_EQ(peer_->messages[1].streamId, 0);
}

TEST_F(DataChannel, AFullSendBufferDropsCountsAndTellsOnceThenDrains) {
    connect(16384);
    produce("dp", 3);
    consume("dc", "dp", 0);
    request("dataConsumer.setBufferedAmountLowThreshold",
            {{"transportId", "t"}, {"dataConsumerId", "dc"}}, {{"threshold", 1000}});
    peer_->deaf = true;
    const std::vector<uint8_t> message(1024, 0xab);
    size_t refused = 0;
    for (int i = 0; i < 64; ++i) {
        const json response = sendFromHost("dc", message);
        if (!response.value("accepted", false)) {
            ++refused;
            EXPECT_EQ(response["error"], "Error");
        }
        uv_run(loop(), UV_RUN_NOWAIT);
        peer_->poll();
    }
    EXPECT_GT(refused, 0u) << "a 16 KiB send buffer took 64 KiB the peer never acknowledged";
    const json stats = dataConsumerStats("dc");
    EXPECT_EQ(stats["messagesDropped"], refused);
    EXPECT_EQ(stats["messagesSent"], 64 - refused);
    EXPECT_GT(stats["bufferedAmount"].get<uint32_t>(), 1000u);
    EXPECT_LE(stats["bufferedAmount"].get<uint32_t>(), 16384u + 1024u);
    runUntil([&] { return false; }, 10);
    EXPECT_EQ(env_.events("dc", "sctpsendbufferfull").size(), 1u);
    EXPECT_TRUE(env_.events("dc", "bufferedamountlow").empty());

    peer_->deaf = false;
    runUntil([&] { return !env_.events("dc", "bufferedamountlow").empty(); }, 2000);
    ASSERT_EQ(env_.events("dc", "bufferedamountlow").size(), 1u);
    EXPECT_LE(env_.events("dc", "bufferedamountlow")[0]["bufferedAmount"].get<uint32_t>(), 1000u);
    EXPECT_EQ(peer_->messages.size(), 64 - refused);
}

TEST_F(DataChannel, GarbageOnTheSctpPortIsCountedAndHarmless) {
    connect();
    produce("dp", 3);
    consume("dc", "dp", 0);
    // SCTP common header (ports 5000) and junk; and a truncated one.
    peer_->sendRaw({0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff});
    peer_->sendRaw({0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 0, 0, 0, 0});
    runUntil([&] { return false; }, 20);
    peer_->send(3, sfu::sctp::kPpidString, {'s', 't', 'i', 'l', 'l'});
    runUntil([&] { return !peer_->messages.empty(); });
    ASSERT_EQ(peer_->messages.size(), 1u);
    EXPECT_EQ(sctpState(), "connected");
}

TEST_F(DataChannel, TransportsWithoutSctpRefuseSctpDataProducers) {
    request("router.createDirectTransport", {{"transportId", "d"}}, json::object());
    const json response =
        env_.request([&](sfu::channel::Request& r) { router_->handleRequest(r); },
                     "transport.produceData", {{"transportId", "d"}, {"dataProducerId", "x"}},
                     {{"type", "sctp"}, {"sctpStreamParameters", {{"streamId", 1}}}});
    EXPECT_EQ(response["error"], "TypeError");
}

} // namespace
