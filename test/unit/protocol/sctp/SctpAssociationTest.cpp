#include "protocol/sctp/SctpAssociation.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <random>
#include <thread>
#include <usrsctp.h>
#include <vector>

using namespace sfu::sctp;

namespace {

using Bytes = std::vector<uint8_t>;

struct Message {
    uint16_t streamId;
    uint32_t ppid;
    Bytes data;
};

// One side of the pair: records what its association reports and queues
// the packets it sends for the pump.
class Peer : public SctpAssociation::Listener {
public:
    void onSctpStateChanged(State state) override { states.push_back(state); }
    void onSctpSendPacket(const uint8_t* data, size_t length) override {
        largestPacket = std::max(largestPacket, length);
        outbox.emplace_back(data, data + length);
    }
    void onSctpMessage(uint16_t streamId, uint32_t ppid, const uint8_t* data,
                       size_t length) override {
        messages.push_back({streamId, ppid, Bytes(data, data + length)});
        if (onMessage) {
            onMessage(messages.back());
        }
    }
    void onSctpIncomingStreamReset(uint16_t streamId) override { resets.push_back(streamId); }
    void onSctpBufferedAmount(uint32_t amount) override { buffered.push_back(amount); }

    void create(const SctpAssociation::Options& options) {
        association = std::make_unique<SctpAssociation>(options, *this);
    }

    std::unique_ptr<SctpAssociation> association;
    std::vector<State> states;
    size_t largestPacket = 0;
    std::deque<Bytes> outbox;
    std::vector<Message> messages;
    std::vector<uint16_t> resets;
    std::vector<uint32_t> buffered;
    std::function<void(const Message&)> onMessage;
};

// usrsctp mixes its timer ticks with the wall clock (retransmission and
// heartbeat decisions compare real send times), so the pump runs in real
// time. Shorter retransmission timeouts and SACK delay than a real network
// needs keep the loss tests quick; they are set once usrsctp is up, as its
// start-up resets them.
class FastTimers : public ::testing::Environment {
public:
    void SetUp() override {
        Peer peer;
        peer.create({});
        peer.association.reset();
        usrsctp_sysctl_set_sctp_rto_min_default(30);
        usrsctp_sysctl_set_sctp_rto_initial_default(100);
        usrsctp_sysctl_set_sctp_init_rto_max_default(200);
        usrsctp_sysctl_set_sctp_delayed_sack_time_default(10);
    }
};

[[maybe_unused]] ::testing::Environment* const fastTimers =
    ::testing::AddGlobalTestEnvironment(new FastTimers);

// Two associations back to back: step() hands each side's queued packets to
// the other (losing some at the configured rate), waits a millisecond and
// advances usrsctp's clock by the time that really passed.
class Pair {
public:
    explicit Pair(SctpAssociation::Options aOptions = {}, SctpAssociation::Options bOptions = {}) {
        a.create(aOptions);
        b.create(bOptions);
    }

    void step() {
        deliver(a, b, lossAtoB, blockAtoB);
        deliver(b, a, lossBtoA, blockBtoA);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const auto now = std::chrono::steady_clock::now();
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - clock_).count();
        if (elapsed > 0) {
            advanceTimers(static_cast<uint32_t>(elapsed));
            clock_ += std::chrono::milliseconds(elapsed);
        }
    }

    // Steps until `done` holds or `maxSteps` ran out; returns `done()`.
    bool pumpUntil(const std::function<bool()>& done, int maxSteps = 3000) {
        for (int i = 0; i < maxSteps && !done(); ++i) {
            step();
        }
        return done();
    }

    void pump(int steps) {
        for (int i = 0; i < steps; ++i) {
            step();
        }
    }

    bool connect() {
        a.association->connect();
        return pumpUntil([&] {
            return a.association->state() == State::Connected &&
                   b.association->state() == State::Connected;
        });
    }

    // Sends, stepping while the send buffer is full.
    bool send(Peer& from, const SendParameters& parameters, uint32_t ppid, const Bytes& data) {
        for (int i = 0; i < 3000; ++i) {
            const auto result =
                from.association->sendMessage(parameters, ppid, data.data(), data.size());
            if (result == SctpAssociation::SendResult::Sent) {
                return true;
            }
            if (result != SctpAssociation::SendResult::BufferFull) {
                return false;
            }
            step();
        }
        return false;
    }

    Peer a;
    Peer b;
    double lossAtoB = 0;
    double lossBtoA = 0;
    bool blockAtoB = false;
    bool blockBtoA = false;
    std::mt19937 rng{12345};

private:
    std::chrono::steady_clock::time_point clock_ = std::chrono::steady_clock::now();

    void deliver(Peer& from, Peer& to, double loss, bool block) {
        if (block) {
            from.outbox.clear();
            return;
        }
        std::deque<Bytes> packets;
        packets.swap(from.outbox);
        std::uniform_real_distribution<double> coin(0, 1);
        for (const Bytes& packet : packets) {
            if (loss > 0 && coin(rng) < loss) {
                continue;
            }
            if (to.association) {
                to.association->receivePacket(packet.data(), packet.size());
            }
        }
    }
};

Bytes pattern(size_t length, uint32_t seed) {
    Bytes data(length);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& byte : data) {
        x = x * 1103515245u + 12345u;
        byte = static_cast<uint8_t>(x >> 16);
    }
    return data;
}

// CRC32c (Castagnoli, reflected), written least significant byte first as
// SCTP carries it (RFC 9260 appendix A).
uint32_t crc32c(const uint8_t* data, size_t length) {
    uint32_t crc = 0xffffffff;
    for (size_t i = 0; i < length; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void setChecksum(Bytes& packet) {
    std::fill(packet.begin() + 8, packet.begin() + 12, 0);
    const uint32_t crc = crc32c(packet.data(), packet.size());
    for (int i = 0; i < 4; ++i) {
        packet[8 + i] = static_cast<uint8_t>(crc >> (8 * i));
    }
}

void put16(Bytes& p, uint16_t v) {
    p.push_back(static_cast<uint8_t>(v >> 8));
    p.push_back(static_cast<uint8_t>(v));
}

void put32(Bytes& p, uint32_t v) {
    put16(p, static_cast<uint16_t>(v >> 16));
    put16(p, static_cast<uint16_t>(v));
}

// An INIT chunk without parameters in a packet of its own (verification
// tag 0, as RFC 9260 8.5.1 requires for INIT).
Bytes makeInit(uint32_t initiateTag, uint32_t initialTsn) {
    Bytes p;
    put16(p, 5000);
    put16(p, 5000);
    put32(p, 0);
    put32(p, 0);
    p.push_back(1); // INIT
    p.push_back(0);
    put16(p, 20);
    put32(p, initiateTag);
    put32(p, 65536); // a_rwnd
    put16(p, 16);    // OS
    put16(p, 16);    // MIS
    put32(p, initialTsn);
    setChecksum(p);
    return p;
}

const SendParameters kReliable{};

TEST(SctpAssociation, ConnectsAndNegotiatesStreamCounts) {
    const size_t before = liveAssociations();
    SctpAssociation::Options aOptions;
    aOptions.os = 10;
    aOptions.mis = 20;
    SctpAssociation::Options bOptions;
    bOptions.os = 30;
    bOptions.mis = 5;
    Pair pair(aOptions, bOptions);
    EXPECT_EQ(liveAssociations(), before + 2);
    EXPECT_EQ(pair.a.association->state(), State::New);
    EXPECT_EQ(pair.b.association->state(), State::New);
    ASSERT_TRUE(pair.connect());
    // B never called connect(): A's INIT started it.
    const std::vector<State> expected{State::Connecting, State::Connected};
    EXPECT_EQ(pair.a.states, expected);
    EXPECT_EQ(pair.b.states, expected);
    EXPECT_EQ(pair.a.association->negotiatedOs(), 5); // min(A's OS, B's MIS)
    EXPECT_EQ(pair.a.association->negotiatedMis(), 20);
    EXPECT_EQ(pair.b.association->negotiatedOs(), 20);
    EXPECT_EQ(pair.b.association->negotiatedMis(), 5);
    EXPECT_GT(pair.a.association->counters().packetsSent, 0u);
    EXPECT_GT(pair.b.association->counters().packetsReceived, 0u);
    pair.a.association.reset();
    EXPECT_EQ(liveAssociations(), before + 1);
    pair.b.association.reset();
    EXPECT_EQ(liveAssociations(), before);
}

TEST(SctpAssociation, SimultaneousOpenConnects) {
    Pair pair;
    pair.a.association->connect();
    pair.b.association->connect();
    pair.b.association->connect(); // idempotent
    ASSERT_TRUE(pair.pumpUntil([&] {
        return pair.a.association->state() == State::Connected &&
               pair.b.association->state() == State::Connected;
    }));
    const std::vector<State> expected{State::Connecting, State::Connected};
    EXPECT_EQ(pair.a.states, expected);
    EXPECT_EQ(pair.b.states, expected);
}

TEST(SctpAssociation, SendBeforeConnectedIsRefused) {
    Pair pair;
    const Bytes data(10, 1);
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinary, data.data(), data.size()),
              SctpAssociation::SendResult::NotConnected);
    pair.a.association->connect();
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinary, data.data(), data.size()),
              SctpAssociation::SendResult::NotConnected);
}

TEST(SctpAssociation, MessagesOfEverySizeArriveIntactBothWays) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    const std::array<size_t, 4> sizes{1, 1024, 65536, 262144};
    const std::array<uint32_t, 4> ppids{kPpidString, kPpidBinary, kPpidDcep, kPpidBinary};
    for (Peer* from : {&pair.a, &pair.b}) {
        Peer& to = from == &pair.a ? pair.b : pair.a;
        to.messages.clear();
        for (size_t i = 0; i < sizes.size(); ++i) {
            // A whole-buffer message only fits an empty buffer.
            ASSERT_TRUE(pair.pumpUntil([&] { return from->association->bufferedAmount() == 0; }));
            SendParameters parameters;
            parameters.streamId = static_cast<uint16_t>(i + 1);
            ASSERT_TRUE(pair.send(*from, parameters, ppids[i], pattern(sizes[i], i))) << sizes[i];
        }
        ASSERT_TRUE(pair.pumpUntil([&] { return to.messages.size() == sizes.size(); }));
        for (size_t i = 0; i < sizes.size(); ++i) {
            EXPECT_EQ(to.messages[i].streamId, i + 1);
            EXPECT_EQ(to.messages[i].ppid, ppids[i]);
            EXPECT_TRUE(to.messages[i].data == pattern(sizes[i], i)) << sizes[i];
        }
    }
    EXPECT_EQ(pair.a.association->counters().messagesSent, 4u);
    EXPECT_EQ(pair.b.association->counters().messagesReceived, 4u);
    EXPECT_EQ(pair.a.association->counters().messagesTooLarge, 0u);
}

TEST(SctpAssociation, PacketsFitAFixedPathMtu) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    SendParameters parameters;
    ASSERT_TRUE(pair.send(pair.a, parameters, kPpidBinary, pattern(65536, 3)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 1; }));
    // Full DATA packets, yet within 1200 bytes: DTLS and UDP go around them.
    EXPECT_LE(pair.a.largestPacket, 1200u);
    EXPECT_GT(pair.a.largestPacket, 1100u);
}

TEST(SctpAssociation, ZeroLengthSendFails) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    const uint8_t byte = 0;
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinaryEmpty, &byte, 0),
              SctpAssociation::SendResult::Failed);
}

TEST(SctpAssociation, TooLargeMessagesAreRefusedOnSendAndDroppedOnReceive) {
    SctpAssociation::Options small;
    small.maxMessageSize = 1000;
    Pair pair({}, small);
    ASSERT_TRUE(pair.connect());
    const Bytes big = pattern(1001, 1);
    EXPECT_EQ(pair.b.association->sendMessage(kReliable, kPpidBinary, big.data(), big.size()),
              SctpAssociation::SendResult::TooLarge);
    // Also above the send buffer (which usrsctp could never take whole).
    const Bytes huge = pattern(262145, 1);
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinary, huge.data(), huge.size()),
              SctpAssociation::SendResult::TooLarge);

    // B accepts 1000 bytes: a 1001-byte message, then one usrsctp hands over
    // in parts, are dropped; what follows still arrives.
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, big));
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(200000, 2)));
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(1000, 3)));
    ASSERT_TRUE(pair.pumpUntil([&] { return !pair.b.messages.empty(); }));
    pair.pump(50);
    ASSERT_EQ(pair.b.messages.size(), 1u);
    EXPECT_EQ(pair.b.messages[0].ppid, kPpidString);
    EXPECT_TRUE(pair.b.messages[0].data == pattern(1000, 3));
    EXPECT_EQ(pair.b.association->counters().messagesTooLarge, 2u);
    EXPECT_EQ(pair.b.association->state(), State::Connected);
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(10, 4)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 2; }));
}

TEST(SctpAssociation, OrderedMessagesArriveInOrderUnderLoss) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.lossAtoB = 0.05;
    pair.lossBtoA = 0.05;
    constexpr uint32_t kCount = 300;
    for (uint32_t i = 0; i < kCount; ++i) {
        Bytes data = pattern(100 + (i * 37) % 3000, i);
        std::memcpy(data.data(), &i, sizeof(i));
        ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, data));
        if (i % 10 == 0) {
            pair.step();
        }
    }
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == kCount; }, 20000));
    for (uint32_t i = 0; i < kCount; ++i) {
        Bytes data = pattern(100 + (i * 37) % 3000, i);
        std::memcpy(data.data(), &i, sizeof(i));
        ASSERT_TRUE(pair.b.messages[i].data == data) << i;
    }
    EXPECT_EQ(pair.b.association->state(), State::Connected);
}

TEST(SctpAssociation, UnreliableUnorderedMessagesMayBeLostWithoutHarm) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.lossAtoB = 0.2;
    SendParameters unreliable;
    unreliable.ordered = false;
    unreliable.maxRetransmits = 0;
    constexpr uint32_t kCount = 300;
    for (uint32_t i = 0; i < kCount; ++i) {
        ASSERT_TRUE(pair.send(pair.a, unreliable, kPpidBinary, pattern(500, i)));
        pair.step();
    }
    pair.pump(500);
    const size_t received = pair.b.messages.size();
    EXPECT_GT(received, kCount / 2);
    EXPECT_LT(received, kCount);
    EXPECT_EQ(pair.a.association->state(), State::Connected);
    EXPECT_EQ(pair.b.association->state(), State::Connected);
    pair.lossAtoB = 0;
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(20, 9999)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == received + 1; }));
    EXPECT_TRUE(pair.b.messages.back().data == pattern(20, 9999));
}

TEST(SctpAssociation, MessagesPastTheirLifetimeAreAbandoned) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    // Nothing gets through at first: without a lifetime the messages would
    // arrive by retransmission once the path is back.
    pair.blockAtoB = true;
    SendParameters shortLived;
    shortLived.maxPacketLifeTime = 20;
    for (uint32_t i = 0; i < 5; ++i) {
        ASSERT_TRUE(pair.send(pair.a, shortLived, kPpidBinary, pattern(300, i)));
    }
    pair.pump(100);
    pair.blockAtoB = false;
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(30, 77)));
    ASSERT_TRUE(pair.pumpUntil([&] { return !pair.b.messages.empty(); }, 2000));
    pair.pump(300);
    ASSERT_EQ(pair.b.messages.size(), 1u);
    EXPECT_TRUE(pair.b.messages[0].data == pattern(30, 77));
    EXPECT_EQ(pair.b.association->state(), State::Connected);
}

TEST(SctpAssociation, MessagesWithoutLifetimeSurviveTheSameOutage) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.blockAtoB = true;
    for (uint32_t i = 0; i < 5; ++i) {
        ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(300, i)));
    }
    pair.pump(100);
    pair.blockAtoB = false;
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 5; }, 2000));
}

TEST(SctpAssociation, ResetStreamReachesThePeer) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    SendParameters onStream3;
    onStream3.streamId = 3;
    ASSERT_TRUE(pair.send(pair.a, onStream3, kPpidString, pattern(10, 1)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 1; }));
    EXPECT_TRUE(pair.b.resets.empty());
    pair.a.association->resetStream(3);
    ASSERT_TRUE(pair.pumpUntil([&] { return !pair.b.resets.empty(); }));
    EXPECT_EQ(pair.b.resets, std::vector<uint16_t>{3});
    EXPECT_TRUE(pair.a.resets.empty());
    // The stream can carry a new channel afterwards.
    ASSERT_TRUE(pair.send(pair.a, onStream3, kPpidString, pattern(10, 2)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 2; }));
}

TEST(SctpAssociation, SendBufferFillsWithoutAcksAndDrainsWithThem) {
    SctpAssociation::Options options;
    options.sendBufferSize = 65536;
    Pair pair(options, {});
    ASSERT_TRUE(pair.connect());
    pair.blockBtoA = true; // no SACKs
    const Bytes data = pattern(1000, 5);
    int sent = 0;
    SctpAssociation::SendResult result = SctpAssociation::SendResult::Sent;
    while (sent < 1000) {
        result = pair.a.association->sendMessage(kReliable, kPpidBinary, data.data(), data.size());
        if (result != SctpAssociation::SendResult::Sent) {
            break;
        }
        ++sent;
        pair.step();
    }
    EXPECT_EQ(result, SctpAssociation::SendResult::BufferFull);
    EXPECT_GT(sent, 30);
    EXPECT_LE(sent, 66);
    const uint32_t full = pair.a.association->bufferedAmount();
    EXPECT_GT(full, 30000u);
    ASSERT_FALSE(pair.a.buffered.empty());
    EXPECT_EQ(pair.a.buffered.back(), full);
    EXPECT_TRUE(std::is_sorted(pair.a.buffered.begin(), pair.a.buffered.end()));

    pair.a.buffered.clear();
    pair.blockBtoA = false;
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.a.association->bufferedAmount() == 0; }));
    ASSERT_FALSE(pair.a.buffered.empty());
    EXPECT_EQ(pair.a.buffered.back(), 0u);
    // It falls as SACKs come in, not just once at the end.
    EXPECT_GT(pair.a.buffered.size(), 1u);
    EXPECT_TRUE(std::is_sorted(pair.a.buffered.rbegin(), pair.a.buffered.rend()));
    EXPECT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == size_t(sent); }));
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinary, data.data(), data.size()),
              SctpAssociation::SendResult::Sent);
}

TEST(SctpAssociation, GarbageIsCountedAndHarmless) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.pump(50);
    SctpAssociation& b = *pair.b.association;
    const uint64_t discarded = b.counters().packetsDiscarded;
    const Bytes tiny{0x13, 0x88, 0x13};
    b.receivePacket(tiny.data(), tiny.size());
    const Bytes huge(70000, 0x13);
    b.receivePacket(huge.data(), huge.size());
    Bytes wrongPort = pattern(100, 1);
    wrongPort[2] = 0x13;
    wrongPort[3] = 0x89;
    b.receivePacket(wrongPort.data(), wrongPort.size());
    EXPECT_EQ(b.counters().packetsDiscarded, discarded + 3);

    // Right port, wrong checksum: usrsctp drops it and it is counted too.
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
        Bytes random = pattern(12 + rng() % 1200, 100 + i);
        random[0] = 0x13;
        random[1] = 0x88;
        random[2] = 0x13;
        random[3] = 0x88;
        b.receivePacket(random.data(), random.size());
    }
    EXPECT_EQ(b.counters().packetsDiscarded, discarded + 203);

    // A real packet cut short, with its checksum fixed up: usrsctp parses
    // what is there.
    pair.a.association->sendMessage(kReliable, kPpidBinary, pattern(800, 1).data(), 800);
    ASSERT_FALSE(pair.a.outbox.empty());
    const Bytes real = pair.a.outbox.back();
    pair.a.outbox.clear();
    for (size_t cut = 12; cut < real.size(); cut += 7) {
        Bytes truncated(real.begin(), real.begin() + cut);
        setChecksum(truncated);
        b.receivePacket(truncated.data(), truncated.size());
    }
    // And random chunks behind a valid header.
    for (int i = 0; i < 200; ++i) {
        Bytes random = pattern(16 + rng() % 300, 1000 + i);
        std::copy(real.begin(), real.begin() + 8, random.begin());
        setChecksum(random);
        b.receivePacket(random.data(), random.size());
    }
    pair.pump(10);
    EXPECT_EQ(b.state(), State::Connected);
    EXPECT_EQ(pair.a.association->state(), State::Connected);
    pair.b.messages.clear();
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(100, 42)));
    ASSERT_TRUE(pair.pumpUntil([&] {
        return std::any_of(pair.b.messages.begin(), pair.b.messages.end(),
                           [](const Message& m) { return m.data == pattern(100, 42); });
    }));
}

TEST(SctpAssociation, ChecksumHelperMatchesUsrsctp) {
    Pair pair;
    pair.a.association->connect();
    ASSERT_FALSE(pair.a.outbox.empty());
    const Bytes init = pair.a.outbox.front();
    Bytes copy = init;
    setChecksum(copy);
    EXPECT_EQ(copy, init);
}

TEST(SctpAssociation, InitStormDoesNotBreakAnEstablishedAssociation) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    std::mt19937 rng(99);
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 100; ++i) {
            const Bytes init = makeInit(rng() | 1, rng());
            pair.b.association->receivePacket(init.data(), init.size());
        }
        pair.step();
        ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(100, round)));
        ASSERT_TRUE(pair.send(pair.b, kReliable, kPpidBinary, pattern(100, round)));
    }
    ASSERT_TRUE(pair.pumpUntil(
        [&] { return pair.a.messages.size() == 10 && pair.b.messages.size() == 10; }));
    EXPECT_EQ(pair.a.association->state(), State::Connected);
    EXPECT_EQ(pair.b.association->state(), State::Connected);
    EXPECT_EQ(pair.a.states.size(), 2u);
    EXPECT_EQ(pair.b.states.size(), 2u);
}

TEST(SctpAssociation, InitWithAZeroLengthParameterIsDiscarded) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    // usrsctp 0.9.5 would spin forever on this INIT in an existing
    // association; the association refuses it before.
    Bytes init = makeInit(0x1234567, 1);
    init[14] = 0;
    init[15] = 28;
    put16(init, 0x0002); // an unknown parameter type ...
    put16(init, 0);      // ... of length 0
    put32(init, 0);
    setChecksum(init);
    const uint64_t discarded = pair.b.association->counters().packetsDiscarded;
    pair.b.association->receivePacket(init.data(), init.size());
    EXPECT_EQ(pair.b.association->counters().packetsDiscarded, discarded + 1);
    // A chunk whose length runs past the packet is refused as well.
    Bytes cut = makeInit(0x1234567, 1);
    cut[15] = 200;
    setChecksum(cut);
    pair.b.association->receivePacket(cut.data(), cut.size());
    EXPECT_EQ(pair.b.association->counters().packetsDiscarded, discarded + 2);
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidString, pattern(10, 1)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.messages.size() == 1; }));
}

TEST(SctpAssociation, CloseAbortsThePeer) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.a.association->close();
    EXPECT_EQ(pair.a.association->state(), State::Closed);
    EXPECT_EQ(pair.a.states.back(), State::Closed);
    ASSERT_FALSE(pair.a.outbox.empty()); // the ABORT
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.association->state() == State::Failed; }));
    EXPECT_EQ(pair.b.states,
              (std::vector<State>{State::Connecting, State::Connected, State::Failed}));
    EXPECT_EQ(pair.a.states,
              (std::vector<State>{State::Connecting, State::Connected, State::Closed}));
    const Bytes data(5, 1);
    EXPECT_EQ(pair.a.association->sendMessage(kReliable, kPpidBinary, data.data(), data.size()),
              SctpAssociation::SendResult::NotConnected);
    pair.a.association->close(); // idempotent
    EXPECT_EQ(pair.a.states.size(), 3u);
}

TEST(SctpAssociation, DestroyingWithPacketsInFlightIsSafe) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    for (uint32_t i = 0; i < 20; ++i) {
        ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(2000, i)));
        ASSERT_TRUE(pair.send(pair.b, kReliable, kPpidBinary, pattern(2000, i)));
    }
    const size_t live = liveAssociations();
    const size_t aStates = pair.a.states.size();
    pair.a.association.reset();
    EXPECT_EQ(liveAssociations(), live - 1);
    EXPECT_EQ(pair.a.states.size(), aStates); // no listener call
    // B's packets for A are dropped by the pump; A's queued packets reach B.
    pair.pump(500);
    EXPECT_EQ(pair.a.states.size(), aStates);
    EXPECT_NE(pair.b.association->state(), State::Connecting);
}

TEST(SctpAssociation, ListenerMayDestroyTheAssociationFromACallback) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.b.onMessage = [&](const Message&) { pair.b.association.reset(); };
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(100, 1)));
    ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(100, 2)));
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.b.association == nullptr; }));
    pair.pump(100);
    EXPECT_EQ(pair.b.messages.size(), 1u);
}

TEST(SctpAssociation, ListenerMaySendFromACallback) {
    Pair pair;
    ASSERT_TRUE(pair.connect());
    pair.b.onMessage = [&](const Message& m) {
        EXPECT_EQ(pair.b.association->sendMessage(kReliable, m.ppid, m.data.data(), m.data.size()),
                  SctpAssociation::SendResult::Sent);
    };
    for (uint32_t i = 0; i < 10; ++i) {
        ASSERT_TRUE(pair.send(pair.a, kReliable, kPpidBinary, pattern(100 + i, i)));
    }
    ASSERT_TRUE(pair.pumpUntil([&] { return pair.a.messages.size() == 10; }));
    for (uint32_t i = 0; i < 10; ++i) {
        EXPECT_TRUE(pair.a.messages[i].data == pattern(100 + i, i));
    }
}

TEST(SctpAssociation, StateNames) {
    EXPECT_STREQ(toString(State::New), "new");
    EXPECT_STREQ(toString(State::Connecting), "connecting");
    EXPECT_STREQ(toString(State::Connected), "connected");
    EXPECT_STREQ(toString(State::Failed), "failed");
    EXPECT_STREQ(toString(State::Closed), "closed");
}

} // namespace
