#include "protocol/dtls/DtlsTransport.hpp"

#include "DtlsTestPeers.hpp"
#include "utils/Errors.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <random>
#include <string>
#include <vector>

using namespace sfu::dtls;
using sfu::dtls::test::Endpoint;
using sfu::dtls::test::fireTimer;
using sfu::dtls::test::Peers;

namespace {

// Generating keys is the slow part; contexts are shared like a worker's.
std::shared_ptr<const DtlsContext> contextA() {
    static const auto context = std::make_shared<const DtlsContext>(Certificate::generate());
    return context;
}

std::shared_ptr<const DtlsContext> contextB() {
    static const auto context = std::make_shared<const DtlsContext>(Certificate::generate());
    return context;
}

std::string lowercase(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

void expectConnected(const Peers& p) {
    EXPECT_EQ(p.client.state(), State::Connected) << p.client.lastError();
    EXPECT_EQ(p.server.state(), State::Connected) << p.server.lastError();
    EXPECT_EQ(p.clientEnd.connected, 1);
    EXPECT_EQ(p.serverEnd.connected, 1);
}

std::vector<uint8_t> bytes(const std::string& s) {
    return std::vector<uint8_t>(s.begin(), s.end());
}

// A DTLS record header followed by `body`.
std::vector<uint8_t> record(uint8_t type, const std::vector<uint8_t>& body, uint16_t epoch = 0) {
    std::vector<uint8_t> r;
    r.reserve(13 + body.size());
    r.push_back(type);
    r.push_back(0xfe); // DTLS 1.2
    r.push_back(0xfd);
    r.push_back(static_cast<uint8_t>(epoch >> 8));
    r.push_back(static_cast<uint8_t>(epoch));
    for (int i = 0; i < 5; ++i) {
        r.push_back(0); // sequence number
    }
    r.push_back(1);
    r.push_back(static_cast<uint8_t>(body.size() >> 8));
    r.push_back(static_cast<uint8_t>(body.size()));
    r.insert(r.end(), body.begin(), body.end());
    return r;
}

} // namespace

TEST(DtlsNames, RolesStatesAndProfiles) {
    EXPECT_EQ(roleName(Role::Auto), "auto");
    EXPECT_EQ(roleName(Role::Client), "client");
    EXPECT_EQ(roleName(Role::Server), "server");
    EXPECT_EQ(parseRole("server"), Role::Server);
    EXPECT_EQ(parseRole("Server"), std::nullopt);
    EXPECT_EQ(parseRole("none"), std::nullopt);
    EXPECT_EQ(stateName(State::New), "new");
    EXPECT_EQ(stateName(State::Connecting), "connecting");
    EXPECT_EQ(stateName(State::Connected), "connected");
    EXPECT_EQ(stateName(State::Failed), "failed");
    EXPECT_EQ(stateName(State::Closed), "closed");
    for (const SrtpProfile profile : kAllSrtpProfiles) {
        EXPECT_EQ(parseSrtpProfile(srtpProfileName(profile)), profile);
    }
    EXPECT_EQ(srtpProfileName(SrtpProfile::AES_CM_128_HMAC_SHA1_80), "AES_CM_128_HMAC_SHA1_80");
    EXPECT_EQ(parseSrtpProfile("SRTP_AES128_CM_SHA1_80"), std::nullopt);
    EXPECT_EQ(srtpKeyLength(SrtpProfile::AEAD_AES_256_GCM), 44u);
    EXPECT_EQ(srtpKeyLength(SrtpProfile::AEAD_AES_128_GCM), 28u);
    EXPECT_EQ(srtpKeyLength(SrtpProfile::AES_CM_128_HMAC_SHA1_80), 30u);
    EXPECT_EQ(srtpKeyLength(SrtpProfile::AES_CM_128_HMAC_SHA1_32), 30u);
}

TEST(DtlsResolveRole, FollowsMediasoup) {
    // The peer's dtlsParameters decide once transport.connect gave them.
    for (const Role local : {Role::Auto, Role::Client, Role::Server}) {
        EXPECT_EQ(resolveRole(local, Role::Client), Role::Server);
        EXPECT_EQ(resolveRole(local, Role::Server), Role::Client);
        EXPECT_EQ(resolveRole(local, Role::Auto), Role::Client);
    }
    // ICE connected before transport.connect.
    EXPECT_EQ(resolveRole(Role::Auto, std::nullopt), Role::Server);
    EXPECT_EQ(resolveRole(Role::Client, std::nullopt), Role::Client);
    EXPECT_EQ(resolveRole(Role::Server, std::nullopt), Role::Server);
}

TEST(DtlsIsDtls, Rfc7983Range) {
    std::array<uint8_t, 13> d{};
    d[0] = 20;
    EXPECT_TRUE(DtlsTransport::isDtls(d.data(), d.size()));
    d[0] = 63;
    EXPECT_TRUE(DtlsTransport::isDtls(d.data(), d.size()));
    d[0] = 64; // TURN channel
    EXPECT_FALSE(DtlsTransport::isDtls(d.data(), d.size()));
    d[0] = 0x80; // RTP
    EXPECT_FALSE(DtlsTransport::isDtls(d.data(), d.size()));
    d[0] = 22;
    EXPECT_FALSE(DtlsTransport::isDtls(d.data(), 12));
    EXPECT_FALSE(DtlsTransport::isDtls(nullptr, 0));
}

TEST(DtlsTransport, HandshakeConnectsBothSides) {
    Peers p(contextA(), contextB());
    EXPECT_EQ(p.client.state(), State::New);
    EXPECT_EQ(p.client.localRole(), std::nullopt);
    p.connect();
    expectConnected(p);
    EXPECT_EQ(p.client.localRole(), Role::Client);
    EXPECT_EQ(p.server.localRole(), Role::Server);
    EXPECT_EQ(p.clientEnd.connecting, 1);
    EXPECT_EQ(p.serverEnd.connecting, 1);
    // The server prefers GCM, 256 bits first.
    EXPECT_EQ(p.clientEnd.profile, SrtpProfile::AEAD_AES_256_GCM);
    EXPECT_EQ(p.serverEnd.profile, SrtpProfile::AEAD_AES_256_GCM);
    ASSERT_EQ(p.clientEnd.localKey.size(), 44u);
    ASSERT_EQ(p.clientEnd.remoteKey.size(), 44u);
    EXPECT_EQ(p.clientEnd.localKey, p.serverEnd.remoteKey);
    EXPECT_EQ(p.clientEnd.remoteKey, p.serverEnd.localKey);
    EXPECT_NE(p.clientEnd.localKey, p.clientEnd.remoteKey);
    EXPECT_EQ(p.clientEnd.remoteCertPem, contextB()->certificate().pem());
    EXPECT_EQ(p.serverEnd.remoteCertPem, contextA()->certificate().pem());
    // No timer left running, every datagram within the MTU.
    EXPECT_FALSE(p.clientEnd.timerMs);
    EXPECT_FALSE(p.serverEnd.timerMs);
    EXPECT_LE(p.clientEnd.maxDatagram, DtlsTransport::kMtu);
    EXPECT_LE(p.serverEnd.maxDatagram, DtlsTransport::kMtu);
    EXPECT_GT(p.client.counters().datagramsSent, 0u);
    EXPECT_EQ(p.client.counters().datagramsSent, p.server.counters().datagramsReceived);
    EXPECT_EQ(p.client.counters().bytesSent, p.server.counters().bytesReceived);
    EXPECT_EQ(p.server.counters().invalidDatagrams, 0u);
}

TEST(DtlsTransport, SeparateAssociationsGetDifferentKeys) {
    Peers first(contextA(), contextB());
    first.connect();
    Peers second(contextA(), contextB());
    second.connect();
    expectConnected(first);
    expectConnected(second);
    EXPECT_NE(first.clientEnd.localKey, second.clientEnd.localKey);
}

class DtlsProfile : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(DtlsProfile, ForcedProfileNegotiates) {
    const SrtpProfile profile = GetParam();
    auto client = std::make_shared<const DtlsContext>(Certificate::generate(),
                                                      std::vector<SrtpProfile>{profile});
    Peers p(client, contextB());
    p.connect();
    expectConnected(p);
    EXPECT_EQ(p.clientEnd.profile, profile);
    EXPECT_EQ(p.serverEnd.profile, profile);
    EXPECT_EQ(p.clientEnd.localKey.size(), srtpKeyLength(profile));
    EXPECT_EQ(p.clientEnd.localKey, p.serverEnd.remoteKey);
    EXPECT_EQ(p.clientEnd.remoteKey, p.serverEnd.localKey);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, DtlsProfile, ::testing::ValuesIn(kAllSrtpProfiles),
                         [](const auto& info) { return std::string(srtpProfileName(info.param)); });

TEST(DtlsTransport, ServerPreferenceWins) {
    auto client = std::make_shared<const DtlsContext>(
        Certificate::generate(), std::vector<SrtpProfile>{SrtpProfile::AES_CM_128_HMAC_SHA1_80,
                                                          SrtpProfile::AEAD_AES_128_GCM});
    Peers p(client, contextB());
    p.connect();
    expectConnected(p);
    EXPECT_EQ(p.serverEnd.profile, SrtpProfile::AEAD_AES_128_GCM);
}

TEST(DtlsTransport, NoCommonSrtpProfileFails) {
    auto client = std::make_shared<const DtlsContext>(
        Certificate::generate(), std::vector<SrtpProfile>{SrtpProfile::AES_CM_128_HMAC_SHA1_32});
    auto server = std::make_shared<const DtlsContext>(
        Certificate::generate(), std::vector<SrtpProfile>{SrtpProfile::AEAD_AES_256_GCM});
    Peers p(client, server);
    p.connect();
    EXPECT_EQ(p.server.state(), State::Failed);
    EXPECT_EQ(p.serverEnd.connected, 0);
    EXPECT_EQ(p.clientEnd.connected, 0);
    EXPECT_NE(p.client.state(), State::Connected);
}

TEST(DtlsTransport, NoSrtpOfferedFails) {
    auto client =
        std::make_shared<const DtlsContext>(Certificate::generate(), std::vector<SrtpProfile>{});
    Peers p(client, contextB());
    p.connect();
    EXPECT_EQ(p.server.state(), State::Failed);
    EXPECT_EQ(p.server.lastError(), "no SRTP profile negotiated");
    EXPECT_EQ(p.serverEnd.failed, 1);
    EXPECT_EQ(p.serverEnd.connected, 0);
    EXPECT_NE(p.client.state(), State::Connected);
}

TEST(DtlsTransport, ServerFingerprintMismatchFails) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprint(
        "sha-256", contextB()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    auto other = Certificate::generate();
    p.server.setRemoteFingerprint("sha-256", other->fingerprint(FingerprintAlgorithm::Sha256));
    p.connect();
    EXPECT_EQ(p.server.state(), State::Failed);
    EXPECT_EQ(p.serverEnd.failed, 1);
    EXPECT_EQ(p.serverEnd.connected, 0);
    EXPECT_TRUE(p.serverEnd.localKey.empty());
    EXPECT_EQ(p.server.localRole(), std::nullopt);
    // The client, satisfied, connected and then got close_notify.
    EXPECT_EQ(p.clientEnd.connected, 1);
    EXPECT_EQ(p.clientEnd.closed, 1);
    EXPECT_EQ(p.client.state(), State::Closed);
}

TEST(DtlsTransport, ClientFingerprintMismatchFails) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprint(
        "sha-256", contextA()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    p.server.setRemoteFingerprint(
        "sha-256", contextA()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    p.connect();
    EXPECT_EQ(p.client.state(), State::Failed);
    EXPECT_EQ(p.clientEnd.failed, 1);
    EXPECT_EQ(p.clientEnd.connected, 0);
    EXPECT_EQ(p.server.state(), State::Closed);
    EXPECT_EQ(p.serverEnd.closed, 1);
}

TEST(DtlsTransport, LowercaseFingerprintMatches) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprint(
        "sha-256", lowercase(contextB()->certificate().fingerprint(FingerprintAlgorithm::Sha256)));
    p.server.setRemoteFingerprint(
        "sha-256", lowercase(contextA()->certificate().fingerprint(FingerprintAlgorithm::Sha256)));
    p.connect();
    expectConnected(p);
}

TEST(DtlsTransport, EveryAlgorithmGivenMustMatch) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprints(contextB()->certificate().fingerprints());
    for (const Fingerprint& f : contextA()->certificate().fingerprints()) {
        p.server.setRemoteFingerprint(fingerprintAlgorithmName(f.algorithm), f.value);
    }
    EXPECT_EQ(p.server.remoteFingerprints().size(), 5u);
    p.connect();
    expectConnected(p);

    // One wrong among right ones fails.
    Peers q(contextA(), contextB());
    auto other = Certificate::generate();
    q.server.setRemoteFingerprint(FingerprintAlgorithm::Sha1, contextA()->certificate().fingerprint(
                                                                  FingerprintAlgorithm::Sha1));
    q.server.setRemoteFingerprint(FingerprintAlgorithm::Sha512,
                                  other->fingerprint(FingerprintAlgorithm::Sha512));
    q.connect();
    EXPECT_EQ(q.server.state(), State::Failed);
    EXPECT_NE(q.server.lastError().find("sha-512"), std::string::npos) << q.server.lastError();
}

TEST(DtlsTransport, SettingAnAlgorithmAgainReplacesIt) {
    Peers p(contextA(), contextB());
    auto other = Certificate::generate();
    p.server.setRemoteFingerprint(FingerprintAlgorithm::Sha256,
                                  other->fingerprint(FingerprintAlgorithm::Sha256));
    p.server.setRemoteFingerprint(
        FingerprintAlgorithm::Sha256,
        contextA()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    EXPECT_EQ(p.server.remoteFingerprints().size(), 1u);
    p.connect();
    expectConnected(p);
}

TEST(DtlsTransport, UnknownFingerprintAlgorithmThrows) {
    Endpoint end;
    DtlsTransport t(contextA(), end);
    EXPECT_THROW(t.setRemoteFingerprint("sha-257", "AA"), sfu::TypeError);
    EXPECT_THROW(t.setRemoteFingerprint("SHA-256", "AA"), sfu::TypeError);
    EXPECT_TRUE(t.remoteFingerprints().empty());
}

TEST(DtlsTransport, FingerprintArrivingAfterTheHandshake) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprint(
        "sha-256", contextB()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    p.connect();
    // OpenSSL is done on both sides, but the server cannot trust the peer yet.
    EXPECT_EQ(p.client.state(), State::Connected);
    EXPECT_EQ(p.server.state(), State::Connecting);
    EXPECT_EQ(p.serverEnd.connected, 0);
    EXPECT_FALSE(p.serverEnd.timerMs);
    // Data from the unauthenticated peer is not delivered.
    const auto early = bytes("early");
    EXPECT_TRUE(p.client.sendApplicationData(early.data(), early.size()));
    p.pump();
    EXPECT_TRUE(p.serverEnd.received.empty());
    EXPECT_EQ(p.server.counters().droppedApplicationData, 1u);
    EXPECT_FALSE(p.server.sendApplicationData(early.data(), early.size()));

    p.server.setRemoteFingerprint(
        "sha-256", contextA()->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    expectConnected(p);
    EXPECT_EQ(p.clientEnd.localKey, p.serverEnd.remoteKey);
}

TEST(DtlsTransport, WrongFingerprintArrivingAfterTheHandshake) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprints(contextB()->certificate().fingerprints());
    p.connect();
    EXPECT_EQ(p.server.state(), State::Connecting);
    p.server.setRemoteFingerprints(contextB()->certificate().fingerprints());
    EXPECT_EQ(p.server.state(), State::Failed);
    EXPECT_EQ(p.serverEnd.failed, 1);
    p.pump();
    EXPECT_EQ(p.client.state(), State::Closed);
}

TEST(DtlsTransport, ApplicationDataRoundTrip) {
    Peers p(contextA(), contextB());
    const auto early = bytes("too early");
    EXPECT_FALSE(p.client.sendApplicationData(early.data(), early.size()));
    p.connect();
    expectConnected(p);

    const auto hello = bytes("hello from the client");
    ASSERT_TRUE(p.client.sendApplicationData(hello.data(), hello.size()));
    const auto reply = bytes("and back from the server");
    ASSERT_TRUE(p.server.sendApplicationData(reply.data(), reply.size()));
    p.pump();
    ASSERT_EQ(p.serverEnd.received.size(), 1u);
    EXPECT_EQ(p.serverEnd.received[0], "hello from the client");
    ASSERT_EQ(p.clientEnd.received.size(), 1u);
    EXPECT_EQ(p.clientEnd.received[0], "and back from the server");

    // The largest message, and limits.
    std::vector<uint8_t> big(DtlsTransport::kMaxApplicationDataLength);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<uint8_t>(i * 31);
    }
    ASSERT_TRUE(p.client.sendApplicationData(big.data(), big.size()));
    p.pump();
    ASSERT_EQ(p.serverEnd.received.size(), 2u);
    EXPECT_EQ(p.serverEnd.received[1], std::string(big.begin(), big.end()));
    big.push_back(0);
    EXPECT_FALSE(p.client.sendApplicationData(big.data(), big.size()));
    EXPECT_FALSE(p.client.sendApplicationData(big.data(), 0));
    EXPECT_FALSE(p.client.sendApplicationData(nullptr, 4));
}

TEST(DtlsTransport, SeveralRecordsInOneDatagram) {
    Peers p(contextA(), contextB());
    p.connect();
    expectConnected(p);
    for (const char* text : {"one", "two", "three"}) {
        const auto message = bytes(text);
        ASSERT_TRUE(p.client.sendApplicationData(message.data(), message.size()));
    }
    std::vector<uint8_t> joined;
    for (const auto& datagram : p.clientEnd.outbox) {
        joined.insert(joined.end(), datagram.begin(), datagram.end());
    }
    p.clientEnd.outbox.clear();
    p.server.processDtlsData(joined.data(), joined.size());
    EXPECT_EQ(p.serverEnd.received, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(DtlsTransport, ListenerMayAnswerAndCloseFromCallbacks) {
    Peers p(contextA(), contextB());
    p.serverEnd.onConnectedHook = [&] {
        const auto greeting = bytes("welcome");
        EXPECT_TRUE(p.server.sendApplicationData(greeting.data(), greeting.size()));
    };
    p.serverEnd.onDataHook = [&] { p.server.close(); };
    p.connect();
    expectConnected(p);
    ASSERT_EQ(p.clientEnd.received, std::vector<std::string>{"welcome"});
    const auto bye = bytes("bye");
    ASSERT_TRUE(p.client.sendApplicationData(bye.data(), bye.size()));
    p.pump();
    EXPECT_EQ(p.server.state(), State::Closed);
    EXPECT_EQ(p.client.state(), State::Closed);
    EXPECT_EQ(p.clientEnd.closed, 1);
}

TEST(DtlsTransport, CloseNotifyClosesThePeer) {
    Peers p(contextA(), contextB());
    p.connect();
    expectConnected(p);
    p.client.close();
    EXPECT_EQ(p.client.state(), State::Closed);
    EXPECT_EQ(p.clientEnd.closed, 0); // asked for, not told
    ASSERT_EQ(p.clientEnd.outbox.size(), 1u);
    p.pump();
    EXPECT_EQ(p.server.state(), State::Closed);
    EXPECT_EQ(p.serverEnd.closed, 1);
    EXPECT_EQ(p.serverEnd.failed, 0);
    // Nothing goes through a closed transport.
    const auto late = bytes("late");
    EXPECT_FALSE(p.server.sendApplicationData(late.data(), late.size()));
    p.server.processDtlsData(late.data(), late.size());
    EXPECT_EQ(p.server.counters().ignoredDatagrams, 1u);

    Peers q(contextA(), contextB());
    q.connect();
    q.server.close();
    q.pump();
    EXPECT_EQ(q.client.state(), State::Closed);
    EXPECT_EQ(q.clientEnd.closed, 1);
}

TEST(DtlsTransport, CloseDuringTheHandshakeSendsNothing) {
    Peers p(contextA(), contextB());
    p.client.run(Role::Client);
    ASSERT_TRUE(p.clientEnd.timerMs);
    p.clientEnd.outbox.clear();
    p.client.close();
    EXPECT_EQ(p.client.state(), State::Closed);
    EXPECT_TRUE(p.clientEnd.outbox.empty());
    EXPECT_FALSE(p.clientEnd.timerMs);
    // The timer firing late is harmless.
    p.client.handleTimeout();
    EXPECT_TRUE(p.clientEnd.outbox.empty());
}

TEST(DtlsTransport, RunRules) {
    Peers p(contextA(), contextB());
    EXPECT_THROW(p.client.run(Role::Auto), sfu::TypeError);
    EXPECT_EQ(p.client.state(), State::New);
    p.client.run(Role::Client);
    const size_t sent = p.clientEnd.sent;
    // Same role again: nothing happens.
    p.client.run(Role::Client);
    EXPECT_EQ(p.clientEnd.connecting, 1);
    EXPECT_EQ(p.clientEnd.sent, sent);
    // The other role starts over silently; the stale ClientHello is lost.
    p.clientEnd.outbox.clear();
    p.client.run(Role::Server);
    EXPECT_EQ(p.clientEnd.connecting, 2);
    EXPECT_EQ(p.client.localRole(), Role::Server);
    EXPECT_FALSE(p.clientEnd.timerMs);
    EXPECT_TRUE(p.clientEnd.outbox.empty());
    // And the roles swapped now connect.
    p.server.run(Role::Client);
    p.pump();
    EXPECT_EQ(p.client.state(), State::Connected) << p.client.lastError();
    EXPECT_EQ(p.server.state(), State::Connected) << p.server.lastError();
}

TEST(DtlsTransport, RunAgainAfterFailure) {
    Peers p(contextA(), contextB(), false);
    p.client.setRemoteFingerprints(contextB()->certificate().fingerprints());
    p.server.setRemoteFingerprints(contextB()->certificate().fingerprints());
    p.connect();
    ASSERT_EQ(p.server.state(), State::Failed);
    p.server.setRemoteFingerprints(contextA()->certificate().fingerprints());
    p.clientEnd.outbox.clear();
    p.serverEnd.outbox.clear();
    p.server.run(Role::Server);
    p.client.run(Role::Client);
    p.pump();
    EXPECT_EQ(p.server.state(), State::Connected) << p.server.lastError();
    EXPECT_EQ(p.serverEnd.connected, 1);
}

TEST(DtlsTransport, DataBeforeRunIsIgnored) {
    Endpoint end;
    DtlsTransport t(contextA(), end);
    const auto junk = record(22, {1, 2, 3});
    t.processDtlsData(junk.data(), junk.size());
    EXPECT_EQ(t.counters().ignoredDatagrams, 1u);
    EXPECT_EQ(t.state(), State::New);
    t.handleTimeout();
    EXPECT_EQ(end.sent, 0u);
}

TEST(DtlsTransport, GarbageOnAFreshServer) {
    Endpoint end;
    DtlsTransport server(contextB(), end);
    server.run(Role::Server);

    // Not DTLS framing at all: counted and dropped before OpenSSL.
    std::vector<std::vector<uint8_t>> notRecords = {
        {},
        {22},
        {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0},      // RTP
        {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 1, 2}, // truncated
        {19, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},        // unknown type
        {22, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},        // TLS version
    };
    auto trailing = record(22, {1, 2, 3});
    trailing.push_back(0);
    notRecords.push_back(trailing);
    notRecords.push_back(std::vector<uint8_t>(70000, 22));
    for (const auto& d : notRecords) {
        server.processDtlsData(d.data(), d.size());
    }
    server.processDtlsData(nullptr, 20);
    EXPECT_EQ(server.counters().invalidDatagrams, notRecords.size() + 1);
    EXPECT_EQ(server.counters().datagramsReceived, 0u);
    EXPECT_EQ(server.state(), State::Connecting);

    // Random bytes.
    std::mt19937 rng(7);
    for (int i = 0; i < 500; ++i) {
        std::vector<uint8_t> d(rng() % 1500);
        for (auto& b : d) {
            b = static_cast<uint8_t>(rng());
        }
        server.processDtlsData(d.data(), d.size());
    }
    EXPECT_GE(server.counters().invalidDatagrams, 400u);
    EXPECT_NE(server.state(), State::Connected);

    // Well-framed records with junk inside reach OpenSSL, which drops them
    // or fails the handshake; never a connection.
    Endpoint end2;
    DtlsTransport server2(contextB(), end2);
    server2.run(Role::Server);
    for (uint8_t type = 20; type <= 24; ++type) {
        for (uint16_t epoch : {0, 1}) {
            std::vector<uint8_t> body(60);
            for (auto& b : body) {
                b = static_cast<uint8_t>(rng());
            }
            const auto r = record(type, body, epoch);
            server2.processDtlsData(r.data(), r.size());
        }
    }
    // A handshake header claiming a huge ClientHello.
    const auto hello = record(22, {1, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 4, 3, 2, 1});
    server2.processDtlsData(hello.data(), hello.size());
    EXPECT_GT(server2.counters().datagramsReceived, 0u);
    EXPECT_NE(server2.state(), State::Connected);
    EXPECT_EQ(end2.connected, 0);
}

TEST(DtlsTransport, GarbageDoesNotStopARealHandshake) {
    Peers p(contextA(), contextB());
    p.server.run(Role::Server);
    std::mt19937 rng(11);
    for (int i = 0; i < 100; ++i) {
        std::vector<uint8_t> d(1 + rng() % 300);
        for (auto& b : d) {
            b = static_cast<uint8_t>(rng());
        }
        // Never a valid record header: type outside 20..24.
        d[0] = static_cast<uint8_t>(100 + rng() % 100);
        p.server.processDtlsData(d.data(), d.size());
    }
    EXPECT_EQ(p.server.counters().invalidDatagrams, 100u);
    p.client.run(Role::Client);
    p.pump();
    expectConnected(p);
}

TEST(DtlsTransport, LostClientHelloIsRetransmitted) {
    Peers p(contextA(), contextB());
    p.server.run(Role::Server);
    p.clientEnd.dropping = true;
    const auto started = std::chrono::steady_clock::now();
    p.client.run(Role::Client);
    EXPECT_EQ(p.clientEnd.dropped, 1u);
    ASSERT_TRUE(p.clientEnd.timerMs);
    EXPECT_GE(*p.clientEnd.timerMs, 90u);
    EXPECT_LE(*p.clientEnd.timerMs, 110u);
    p.clientEnd.dropping = false;

    // Fired early, the timer only re-arms (unless this machine is so slow
    // that it is no longer early).
    p.client.handleTimeout();
    if (std::chrono::steady_clock::now() - started < std::chrono::milliseconds(50)) {
        EXPECT_EQ(p.client.counters().retransmissions, 0u);
        EXPECT_TRUE(p.clientEnd.timerMs);
        EXPECT_TRUE(p.clientEnd.outbox.empty());
    }
    const uint64_t before = p.client.counters().retransmissions;
    p.clientEnd.outbox.clear();

    fireTimer(p.clientEnd, p.client);
    EXPECT_EQ(p.client.counters().retransmissions, before + 1);
    EXPECT_EQ(p.clientEnd.outbox.size(), 1u);
    // The next wait doubles.
    ASSERT_TRUE(p.clientEnd.timerMs);
    EXPECT_GE(*p.clientEnd.timerMs, 190u);
    p.pump();
    expectConnected(p);
    EXPECT_FALSE(p.clientEnd.timerMs);
}

TEST(DtlsTransport, LostServerFlightIsRetransmitted) {
    Peers p(contextA(), contextB());
    p.server.run(Role::Server);
    p.client.run(Role::Client);
    p.serverEnd.dropping = true;
    p.pump();
    EXPECT_GT(p.serverEnd.dropped, 0u);
    p.serverEnd.dropping = false;
    ASSERT_TRUE(p.serverEnd.timerMs);
    fireTimer(p.serverEnd, p.server);
    EXPECT_EQ(p.server.counters().retransmissions, 1u);
    p.pump();
    expectConnected(p);
}

TEST(DtlsTransport, LostFinalFlightIsResentOnTheClientRetransmission) {
    Peers p(contextA(), contextB());
    p.server.run(Role::Server);
    p.client.run(Role::Client);
    // ClientHello, then the server's flight.
    ASSERT_TRUE(p.toServer());
    ASSERT_TRUE(p.toClient());
    // The client's flight (certificate, key exchange, finished) completes
    // the server, whose ChangeCipherSpec and Finished are lost.
    p.serverEnd.dropping = true;
    ASSERT_TRUE(p.toServer());
    p.serverEnd.dropping = false;
    EXPECT_EQ(p.server.state(), State::Connected);
    EXPECT_FALSE(p.serverEnd.timerMs);
    EXPECT_EQ(p.client.state(), State::Connecting);
    ASSERT_TRUE(p.clientEnd.timerMs);
    // The server has no timer now; the client's retransmission makes it
    // resend its last flight.
    p.server.handleTimeout();
    EXPECT_TRUE(p.serverEnd.outbox.empty());
    fireTimer(p.clientEnd, p.client);
    p.pump();
    expectConnected(p);
    EXPECT_EQ(p.clientEnd.localKey, p.serverEnd.remoteKey);
}

TEST(DtlsTransport, LargeCertificateIsFragmentedWithinTheMtu) {
    // A certificate far above the MTU: long subject fields.
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ASSERT_NE(key, nullptr);
    X509* x509 = X509_new();
    X509_set_version(x509, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 12345);
    X509_NAME* name = X509_get_subject_name(x509);
    const std::string filler(60, 'x');
    for (int i = 0; i < 50; ++i) {
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(filler.c_str()), -1, -1,
                                   0);
    }
    X509_set_issuer_name(x509, name);
    X509_gmtime_adj(X509_getm_notBefore(x509), 0);
    X509_gmtime_adj(X509_getm_notAfter(x509), 86400);
    X509_set_pubkey(x509, key);
    ASSERT_GT(X509_sign(x509, key, EVP_sha256()), 0);
    ASSERT_GT(i2d_X509(x509, nullptr), 3000);

    BIO* certBio = BIO_new(BIO_s_mem());
    BIO* keyBio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(certBio, x509);
    PEM_write_bio_PrivateKey(keyBio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* certData = nullptr;
    char* keyData = nullptr;
    const long certLength = BIO_get_mem_data(certBio, &certData);
    const long keyLength = BIO_get_mem_data(keyBio, &keyData);
    auto certificate = Certificate::fromPem(std::string(certData, static_cast<size_t>(certLength)),
                                            std::string(keyData, static_cast<size_t>(keyLength)));
    BIO_free(certBio);
    BIO_free(keyBio);
    X509_free(x509);
    EVP_PKEY_free(key);

    auto big = std::make_shared<const DtlsContext>(certificate);
    Peers p(big, big);
    p.connect();
    expectConnected(p);
    EXPECT_LE(p.clientEnd.maxDatagram, DtlsTransport::kMtu);
    EXPECT_LE(p.serverEnd.maxDatagram, DtlsTransport::kMtu);
    EXPECT_GT(p.clientEnd.maxDatagram, DtlsTransport::kMtu - 200);
}
