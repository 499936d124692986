// RTP observers. The entities directly (producers built without a
// transport, packets in the router's space handed to the observer, the
// interval ended by hand): what AudioLevelObserver reports and when, how
// ActiveSpeakerObserver names the dominant speaker. Then through a router:
// the requests, their errors, the router's maps and the packets of observed
// producers reaching their observers.
#include "channel/ChannelSocket.hpp"
#include "protocol/rtp/Extensions.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "rtc/ActiveSpeakerObserver.hpp"
#include "rtc/AudioLevelObserver.hpp"
#include "rtc/EntityEnvironment.hpp"
#include "rtc/Producer.hpp"
#include "rtc/RouterFixture.hpp"
#include "utils/Errors.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using sfu::rtc::ActiveSpeakerObserver;
using sfu::rtc::AudioLevelObserver;
using sfu::rtc::Producer;
using sfu::rtc::RtpForwardInfo;
using sfu::rtc::RtpObserver;
using sfu::rtp::RtpPacket;

constexpr uint8_t kSenderLevelId = 1;
constexpr auto kCanonicalLevelId = static_cast<uint8_t>(sfu::rtp::ExtensionType::SsrcAudioLevel);

struct FakeListener : Producer::Listener {
    void onProducerPaused(Producer&) override {}
    void onProducerResumed(Producer&) override {}
    void onProducerScore(Producer&) override {}
    void onProducerSendRtcp(Producer&, const uint8_t*, size_t) override {}
};

// transport.produce data for Opus (or VP8) with ssrc-audio-level under
// `levelId` (none when 0).
json produceData(const std::string& kind, uint32_t ssrc, uint8_t levelId) {
    json codec = kind == "audio"
                     ? json{{"mimeType", "audio/opus"},     {"payloadType", 100},
                            {"clockRate", 48000},           {"channels", 2},
                            {"parameters", json::object()}, {"rtcpFeedback", json::array()}}
                     : json{{"mimeType", "video/VP8"},
                            {"payloadType", 100},
                            {"clockRate", 90000},
                            {"parameters", json::object()},
                            {"rtcpFeedback", json::array()}};
    json extensions = json::array();
    if (levelId != 0) {
        extensions.push_back({{"uri", "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
                              {"id", levelId},
                              {"encrypt", false},
                              {"parameters", json::object()}});
    }
    return json{{"kind", kind},
                {"rtpParameters",
                 {{"codecs", {codec}},
                  {"headerExtensions", extensions},
                  {"encodings", {{{"ssrc", ssrc}}}},
                  {"rtcp", {{"cname", "c"}, {"reducedSize", true}}}}},
                {"rtpMapping",
                 {{"codecs", {{{"payloadType", 100}, {"mappedPayloadType", 100}}}},
                  {"encodings", {{{"ssrc", ssrc}, {"mappedSsrc", ssrc + 1000}}}}}},
                {"keyFrameRequestDelay", 0u},
                {"paused", false}};
}

// An RTP packet of `ssrc` with the given level under `id`, or no extension.
std::vector<uint8_t> audioPacket(uint32_t ssrc, uint16_t seq, std::optional<uint8_t> level,
                                 uint8_t id, bool voice = true) {
    std::vector<uint8_t> buffer(256);
    const uint8_t value = static_cast<uint8_t>((voice ? 0x80 : 0) | level.value_or(0));
    const sfu::rtp::ExtensionElement element{id, {&value, 1}};
    const uint8_t payload[20] = {0xfc, 1, 2, 3};
    sfu::rtp::RtpPacketSpec spec;
    spec.payloadType = 100;
    spec.sequenceNumber = seq;
    spec.timestamp = seq * 960u;
    spec.ssrc = ssrc;
    if (level) {
        spec.extensions = {&element, 1};
    }
    spec.payload = payload;
    auto packet = RtpPacket::build(buffer.data(), buffer.size(), spec);
    EXPECT_TRUE(packet.has_value());
    buffer.resize(packet ? packet->size() : 0);
    return buffer;
}

// ---- The entities ----------------------------------------------------------

class ObserverEntities : public ::testing::Test {
protected:
    void TearDown() override {
        observers_.clear();
        producers_.clear();
    }

    Producer& producer(const std::string& id, const std::string& kind = "audio",
                       uint8_t levelId = kSenderLevelId) {
        const auto ssrc = static_cast<uint32_t>(1000 + producers_.size());
        producers_.push_back(std::make_unique<Producer>(id, env_.shared(), listener_,
                                                        produceData(kind, ssrc, levelId)));
        return *producers_.back();
    }

    AudioLevelObserver& audioLevels(int maxEntries, int threshold, int interval = 1000) {
        observers_.push_back(std::make_unique<AudioLevelObserver>(
            "alo", env_.shared(),
            json{{"maxEntries", maxEntries}, {"threshold", threshold}, {"interval", interval}}));
        return static_cast<AudioLevelObserver&>(*observers_.back());
    }

    ActiveSpeakerObserver& activeSpeaker() {
        observers_.push_back(
            std::make_unique<ActiveSpeakerObserver>("aso", env_.shared(), json{{"interval", 300}}));
        return static_cast<ActiveSpeakerObserver&>(*observers_.back());
    }

    // `count` packets of `producer` at level `level` (-dBov; nullopt: no
    // extension), one per 20 ms of the test clock.
    void send(RtpObserver& observer, Producer& producer, std::optional<uint8_t> level,
              int count = 1, uint8_t id = kCanonicalLevelId) {
        for (int i = 0; i < count; ++i) {
            auto bytes = audioPacket(1, seq_++, level, id);
            auto packet = RtpPacket::parse(bytes.data(), bytes.size());
            ASSERT_TRUE(packet.has_value());
            RtpForwardInfo info;
            info.nowMs = nowMs_;
            observer.receiveRtpPacket(producer, *packet, info);
        }
    }

    std::vector<json> events(const std::string& target, const std::string& event) {
        return env_.events(target, event);
    }

    sfu::test::EntityEnvironment env_{46000, 46999};
    FakeListener listener_;
    std::vector<std::unique_ptr<Producer>> producers_;
    std::vector<std::unique_ptr<RtpObserver>> observers_;
    uint16_t seq_ = 1;
    uint64_t nowMs_ = 100000;
};

json volume(const std::string& producerId, int value) {
    return json{{"producerId", producerId}, {"volume", value}};
}

TEST_F(ObserverEntities, VolumesAreIntervalAveragesLoudestFirst) {
    auto& observer = audioLevels(3, -80);
    Producer& a = producer("a");
    Producer& b = producer("b");
    Producer& c = producer("c");
    for (Producer* p : {&a, &b, &c}) {
        observer.addProducer(*p);
    }
    for (int i = 0; i < 10; ++i) {
        send(observer, a, 10);
        send(observer, a, 21); // a averages 15.5 -dBov: -16 dBov
    }
    send(observer, b, 40, 20);
    send(observer, c, 5, 20);
    observer.update();
    const auto volumes = events("alo", "volumes");
    ASSERT_EQ(volumes.size(), 1u);
    EXPECT_EQ(volumes[0], json::array({volume("c", -5), volume("a", -16), volume("b", -40)}));

    // The next interval starts from nothing.
    send(observer, b, 30, 12);
    observer.update();
    ASSERT_EQ(events("alo", "volumes").size(), 2u);
    EXPECT_EQ(events("alo", "volumes")[1], json::array({volume("b", -30)}));
}

TEST_F(ObserverEntities, ThresholdAndMaxEntriesCut) {
    auto& observer = audioLevels(2, -50);
    std::vector<Producer*> all;
    for (const char* id : {"p1", "p2", "p3", "p4"}) {
        all.push_back(&producer(id));
        observer.addProducer(*all.back());
    }
    send(observer, *all[0], 60, 15); // below the threshold
    send(observer, *all[1], 50, 15); // at it: counts
    send(observer, *all[2], 20, 15);
    send(observer, *all[3], 45, 15);
    observer.update();
    const auto volumes = events("alo", "volumes");
    ASSERT_EQ(volumes.size(), 1u);
    EXPECT_EQ(volumes[0], json::array({volume("p3", -20), volume("p4", -45)}));
}

TEST_F(ObserverEntities, FewerThanTenLevelsOrNoExtensionAreNoVolume) {
    auto& observer = audioLevels(4, -127);
    Producer& few = producer("few");
    Producer& bare = producer("bare");
    Producer& unnegotiated = producer("unnegotiated", "audio", 0);
    for (Producer* p : {&few, &bare, &unnegotiated}) {
        observer.addProducer(*p);
    }
    send(observer, few, 10, 9);
    send(observer, bare, std::nullopt, 50);
    // Its sender never negotiated the extension: an element under the
    // canonical id is not an audio level.
    send(observer, unnegotiated, 10, 50);
    observer.update();
    EXPECT_TRUE(events("alo", "volumes").empty());
    EXPECT_TRUE(events("alo", "silence").empty()) << "silence follows volumes only";
    send(observer, few, 10, 1);
    send(observer, few, 10, 9);
    observer.update();
    EXPECT_EQ(events("alo", "volumes").size(), 1u);
}

TEST_F(ObserverEntities, SilenceOnceAfterVolumes) {
    auto& observer = audioLevels(1, -70);
    Producer& a = producer("a");
    observer.addProducer(a);
    observer.update();
    EXPECT_TRUE(events("alo", "silence").empty());
    send(observer, a, 20, 20);
    observer.update();
    ASSERT_EQ(events("alo", "volumes").size(), 1u);
    // 127 is silence; then nothing at all.
    send(observer, a, 127, 20);
    observer.update();
    EXPECT_EQ(events("alo", "silence").size(), 1u);
    observer.update();
    send(observer, a, 100, 20);
    observer.update();
    EXPECT_EQ(events("alo", "silence").size(), 1u) << "silence is said once";
    EXPECT_EQ(events("alo", "volumes").size(), 1u);
    send(observer, a, 30, 20);
    observer.update();
    send(observer, a, 127, 20);
    observer.update();
    EXPECT_EQ(events("alo", "volumes").size(), 2u);
    EXPECT_EQ(events("alo", "silence").size(), 2u);
}

TEST_F(ObserverEntities, PausedObserverIgnoresLevelsAndResumeStartsAfresh) {
    auto& observer = audioLevels(1, -127);
    Producer& a = producer("a");
    observer.addProducer(a);
    send(observer, a, 20, 20);
    observer.update();
    ASSERT_EQ(events("alo", "volumes").size(), 1u);

    send(observer, a, 20, 20);
    observer.pause();
    // A run of volumes ends with silence, as mediasoup's worker says it.
    EXPECT_EQ(events("alo", "silence").size(), 1u);
    send(observer, a, 10, 20);
    observer.update();
    EXPECT_EQ(events("alo", "volumes").size(), 1u) << "nothing while paused";
    observer.resume();
    // Neither the levels before the pause nor those during it count.
    send(observer, a, 40, 10);
    observer.update();
    ASSERT_EQ(events("alo", "volumes").size(), 2u);
    EXPECT_EQ(events("alo", "volumes")[1], json::array({volume("a", -40)}));
}

TEST_F(ObserverEntities, RemovedOrPausedProducersAreNotReported) {
    auto& observer = audioLevels(4, -127);
    Producer& a = producer("a");
    Producer& b = producer("b");
    observer.addProducer(a);
    observer.addProducer(b);
    observer.addProducer(a); // again: nothing changes
    EXPECT_EQ(observer.producers().size(), 2u);
    send(observer, a, 20, 20);
    send(observer, b, 30, 20);
    observer.removeProducer(a);
    observer.removeProducer(a); // again: nothing
    observer.update();
    ASSERT_EQ(events("alo", "volumes").size(), 1u);
    EXPECT_EQ(events("alo", "volumes")[0], json::array({volume("b", -30)}));
    // Its levels before a pause are not its volume.
    send(observer, b, 30, 20);
    observer.producerPaused(b);
    observer.update();
    EXPECT_EQ(events("alo", "volumes").size(), 1u);
}

TEST_F(ObserverEntities, OnlyAudioProducersAndValidOptions) {
    auto& observer = audioLevels(1, -80);
    EXPECT_THROW(observer.addProducer(producer("v", "video", 0)), sfu::TypeError);
    EXPECT_TRUE(observer.producers().empty());
    auto& shared = env_.shared();
    EXPECT_THROW(
        AudioLevelObserver("x", shared, {{"maxEntries", 0}, {"threshold", -80}, {"interval", 800}}),
        sfu::TypeError);
    EXPECT_THROW(AudioLevelObserver("x", shared,
                                    {{"maxEntries", -3}, {"threshold", -80}, {"interval", 800}}),
                 sfu::TypeError);
    EXPECT_THROW(
        AudioLevelObserver("x", shared, {{"maxEntries", 1}, {"threshold", 1}, {"interval", 800}}),
        sfu::TypeError);
    EXPECT_THROW(AudioLevelObserver("x", shared,
                                    {{"maxEntries", 1}, {"threshold", -128}, {"interval", 800}}),
                 sfu::TypeError);
    EXPECT_THROW(AudioLevelObserver("x", shared,
                                    {{"maxEntries", 1}, {"threshold", "foo"}, {"interval", 800}}),
                 sfu::TypeError);
    EXPECT_THROW(AudioLevelObserver("x", shared,
                                    {{"maxEntries", 1}, {"threshold", -80}, {"interval", false}}),
                 sfu::TypeError);
    EXPECT_THROW(AudioLevelObserver("x", shared, {{"maxEntries", 1}, {"threshold", -80}}),
                 sfu::TypeError);
    EXPECT_EQ(
        AudioLevelObserver("x", shared, {{"maxEntries", 1}, {"threshold", -80}, {"interval", 10}})
            .intervalMs(),
        250u);
    EXPECT_EQ(
        AudioLevelObserver("x", shared, {{"maxEntries", 1}, {"threshold", -80}, {"interval", 1e6}})
            .intervalMs(),
        5000u);
    EXPECT_THROW(ActiveSpeakerObserver("x", shared, {{"interval", false}}), sfu::TypeError);
    EXPECT_EQ(ActiveSpeakerObserver("x", shared, {{"interval", 1}}).intervalMs(), 100u);
}

// ---- Dominant speaker --------------------------------------------------------

class DominantSpeaker : public ObserverEntities {
protected:
    void SetUp() override {
        observer_ = &activeSpeaker();
        for (const char* id : {"a", "b", "c"}) {
            speakers_.push_back(&producer(id));
            observer_->addProducer(*speakers_.back());
        }
    }

    // `ms` of audio from every speaker: `levels[i](frame)` is speaker i's
    // level in that frame. Decides every 300 ms as the timer would.
    template <typename F>
    void run(uint64_t ms, F&& levelOf) {
        for (uint64_t t = 0; t < ms; t += 20) {
            for (size_t i = 0; i < speakers_.size(); ++i) {
                const std::optional<uint8_t> level = levelOf(i, frame_);
                if (level) {
                    send(*observer_, *speakers_[i], *level);
                }
            }
            ++frame_;
            nowMs_ += 20;
            if (nowMs_ % 300 == 0) {
                observer_->update(nowMs_);
            }
        }
    }

    std::vector<std::string> dominants() {
        std::vector<std::string> out;
        for (const auto& event : events("aso", "dominantspeaker")) {
            out.push_back(event.value("producerId", ""));
        }
        return out;
    }

    // Speech: syllables at `level` with pauses down to the room (-60 dBov).
    static uint8_t speech(uint64_t frame, uint8_t level) { return frame % 10 < 2 ? 60 : level; }

    ActiveSpeakerObserver* observer_ = nullptr;
    std::vector<Producer*> speakers_;
    uint64_t frame_ = 0;
};

TEST_F(DominantSpeaker, SilenceNamesNobody) {
    run(3000, [](size_t, uint64_t) { return std::optional<uint8_t>(127); });
    run(3000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    EXPECT_TRUE(dominants().empty());
    EXPECT_EQ(observer_->dominant(), nullptr);
}

TEST_F(DominantSpeaker, OneSpeakerBecomesDominantOnce) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(3000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 1 ? speech(f, 20) : 60); });
    EXPECT_EQ(dominants(), std::vector<std::string>{"b"});
}

TEST_F(DominantSpeaker, TurnTakingSwitchesWithinABoundedTime) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(2000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 10) : 60); });
    ASSERT_EQ(dominants(), std::vector<std::string>{"a"});
    // C speaks more quietly than A did; within 1.5 s (5 decisions) it is
    // dominant.
    run(1500,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 2 ? speech(f, 30) : 60); });
    EXPECT_EQ(dominants(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(DominantSpeaker, AnInterruptionDoesNotTakeOverATalkingSpeaker) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(2000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 20) : 60); });
    run(3000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 2 ? 60 : speech(f, 20)); });
    EXPECT_EQ(dominants(), std::vector<std::string>{"a"});
}

TEST_F(DominantSpeaker, ClippingIsTheLoudest) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    // 0 dBov: the loudest a level can be, not an empty one.
    run(1500,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 0) : 60); });
    EXPECT_EQ(dominants(), std::vector<std::string>{"a"});
}

TEST_F(DominantSpeaker, PacketsWithoutLevelsAndStoppedSendersAreSilent) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(2000, [](size_t i, uint64_t f) {
        return i == 1 ? std::nullopt : std::optional<uint8_t>(i == 0 ? speech(f, 20) : 60);
    });
    EXPECT_EQ(dominants(), std::vector<std::string>{"a"});
    // A stops sending altogether; B speaks: A's silence is counted from the
    // idle time, so B takes over.
    run(2000, [](size_t i, uint64_t f) {
        return i == 0 ? std::nullopt : std::optional<uint8_t>(i == 1 ? speech(f, 20) : 60);
    });
    EXPECT_EQ(dominants(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(DominantSpeaker, RemovingTheDominantReconsidersAtOnce) {
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(2000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 2 ? 60 : speech(f, 20)); });
    ASSERT_EQ(dominants().size(), 1u);
    const std::string first = dominants()[0];
    Producer* dominant = first == "a" ? speakers_[0] : speakers_[1];
    observer_->removeProducer(*dominant);
    const auto after = dominants();
    ASSERT_EQ(after.size(), 2u);
    EXPECT_NE(after[1], first);
    EXPECT_EQ(after[1], first == "a" ? "b" : "a");
}

TEST_F(DominantSpeaker, PausedObserverAndPausedProducers) {
    observer_->pause();
    run(1000, [](size_t, uint64_t) { return std::optional<uint8_t>(60); });
    run(2000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 20) : 60); });
    EXPECT_TRUE(dominants().empty()) << "a paused observer decides nothing";
    observer_->resume();
    observer_->producerPaused(*speakers_[0]);
    run(2000,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 20) : 60); });
    EXPECT_TRUE(dominants().empty()) << "a paused producer is no candidate";
    observer_->producerResumed(*speakers_[0]);
    run(600,
        [](size_t i, uint64_t f) { return std::optional<uint8_t>(i == 0 ? speech(f, 20) : 60); });
    EXPECT_EQ(dominants(), std::vector<std::string>{"a"});
}

// ---- Through a router --------------------------------------------------------

class RouterObservers : public sfu::test::RouterFixture {
protected:
    void SetUp() override {
        RouterFixture::SetUp();
        request("router.createDirectTransport", {{"transportId", "t"}},
                {{"direct", true}, {"maxMessageSize", 262144}});
        request("transport.produce", {{"transportId", "t"}, {"producerId", "a"}},
                produceData("audio", 1111, kSenderLevelId));
        request("transport.produce", {{"transportId", "t"}, {"producerId", "b"}},
                produceData("audio", 2222, kSenderLevelId));
        request("transport.produce", {{"transportId", "t"}, {"producerId", "v"}},
                produceData("video", 3333, 0));
    }

    json response(const std::string& method, json internal, json data) {
        return env_.request([&](sfu::channel::Request& r) { router_->handleRequest(r); }, method,
                            internal, data);
    }

    json observerInternal(const std::string& id) {
        return {{"routerId", "r"}, {"rtpObserverId", id}};
    }

    void producerSend(const std::string& producerId, uint32_t ssrc, uint8_t level, int count) {
        for (int i = 0; i < count; ++i) {
            const auto bytes = audioPacket(ssrc, seq_++, level, kSenderLevelId);
            const json internal{{"transportId", "t"}, {"producerId", producerId}};
            const json data = json::object();
            router_->handlePayloadNotification(
                sfu::channel::PayloadNotification{sfu::channel::PayloadEvent::ProducerSend,
                                                  internal, data, bytes.data(), bytes.size()});
        }
    }

    uint16_t seq_ = 1;
};

TEST_F(RouterObservers, RequestsAndTheirErrors) {
    request("router.createAudioLevelObserver", observerInternal("alo"),
            {{"maxEntries", 1}, {"threshold", -80}, {"interval", 800}});
    request("router.createActiveSpeakerObserver", observerInternal("aso"), {{"interval", 300}});
    EXPECT_EQ(response("router.createAudioLevelObserver", observerInternal("alo"),
                       {{"maxEntries", 1}, {"threshold", -80}, {"interval", 800}})
                  .value("error", ""),
              "Error")
        << "duplicate id";
    EXPECT_EQ(response("router.createAudioLevelObserver", observerInternal("x"),
                       {{"maxEntries", 0}, {"threshold", -80}, {"interval", 800}})
                  .value("error", ""),
              "TypeError");
    EXPECT_EQ(
        response("router.createActiveSpeakerObserver", observerInternal("x"), {{"interval", false}})
            .value("error", ""),
        "TypeError");

    EXPECT_EQ(response("rtpObserver.addProducer", observerInternal("alo"), {{"producerId", "nope"}})
                  .value("error", ""),
              "Error");
    EXPECT_EQ(response("rtpObserver.addProducer", observerInternal("alo"), json::object())
                  .value("error", ""),
              "Error");
    EXPECT_EQ(response("rtpObserver.addProducer", observerInternal("alo"), {{"producerId", "v"}})
                  .value("error", ""),
              "TypeError");
    EXPECT_EQ(
        response("rtpObserver.pause", observerInternal("nope"), json::object()).value("error", ""),
        "Error");

    request("rtpObserver.addProducer", observerInternal("alo"), {{"producerId", "a"}});
    request("rtpObserver.addProducer", observerInternal("aso"), {{"producerId", "a"}});
    request("rtpObserver.addProducer", observerInternal("aso"), {{"producerId", "b"}});
    request("rtpObserver.pause", observerInternal("alo"), json::object());
    request("rtpObserver.resume", observerInternal("alo"), json::object());
    json dump = request("router.dump", {{"routerId", "r"}}, json::object());
    EXPECT_EQ(dump["rtpObserverIds"], json::array({"alo", "aso"}));
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["a"], json::array({"alo", "aso"}));
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["b"], json::array({"aso"}));
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["v"], json::array());

    request("rtpObserver.removeProducer", observerInternal("aso"), {{"producerId", "a"}});
    // Closing a producer takes it from every observer.
    request("producer.close", {{"transportId", "t"}, {"producerId", "b"}}, json::object());
    dump = request("router.dump", {{"routerId", "r"}}, json::object());
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["a"], json::array({"alo"}));
    EXPECT_FALSE(dump["mapProducerIdObserverIds"].contains("b"));

    request("rtpObserver.close", observerInternal("alo"), json::object());
    dump = request("router.dump", {{"routerId", "r"}}, json::object());
    EXPECT_EQ(dump["rtpObserverIds"], json::array({"aso"}));
    EXPECT_EQ(dump["mapProducerIdObserverIds"]["a"], json::array());
    EXPECT_EQ(
        response("rtpObserver.close", observerInternal("alo"), json::object()).value("error", ""),
        "Error");
}

// Packets reach the observers of their producer only, and closing the
// router closes its observers without a word.
TEST_F(RouterObservers, ObservedProducersPacketsReachTheObserver) {
    request("router.createAudioLevelObserver", observerInternal("alo"),
            {{"maxEntries", 4}, {"threshold", -127}, {"interval", 250}});
    request("rtpObserver.addProducer", observerInternal("alo"), {{"producerId", "a"}});
    const auto start = std::chrono::steady_clock::now();
    std::vector<json> volumes;
    while (volumes.empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
        producerSend("a", 1111, 33, 2);
        producerSend("b", 2222, 3, 2);
        uv_run(loop(), UV_RUN_NOWAIT);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        volumes = env_.events("alo", "volumes");
    }
    ASSERT_FALSE(volumes.empty());
    EXPECT_EQ(volumes[0], json::array({volume("a", -33)}));

    const size_t before = env_.notifications().size();
    router_.reset();
    uv_run(loop(), UV_RUN_NOWAIT);
    EXPECT_EQ(env_.notifications().size(), before) << "the router closes its observers silently";
}

} // namespace
