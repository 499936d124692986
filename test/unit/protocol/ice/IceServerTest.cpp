// IceServer as a transport drives it: checks in, responses and state
// callbacks out, time passed in by hand.
#include "IceTestUtil.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <set>

namespace sfu::ice::test {
namespace {

constexpr std::string_view kUfrag = "ourufrag";
constexpr std::string_view kPassword = "ourpassword0123456789abcd";

class IceServerTest : public ::testing::Test {
protected:
    IceServerTest()
        : server(listener, std::string(kUfrag), std::string(kPassword)),
          remote1(ipv4("198.51.100.1", 5000)), remote2(ipv4("198.51.100.2", 6000)),
          remote3(ipv6("2001:db8::3", 7000)), udp1(Protocol::Udp, &udpSocket, sa(remote1)),
          udp2(Protocol::Udp, &udpSocket, sa(remote2)),
          tcp3(Protocol::Tcp, &tcpConnection, sa(remote3)) {}

    Check goodCheck() const {
        Check check;
        check.username = std::string(kUfrag) + ":peer";
        check.password = std::string(kPassword);
        return check;
    }

    IceResult send(const Check& check, const Tuple& tuple, uint64_t nowMs = 0) {
        const auto bytes = build(check);
        return server.processStunPacket(bytes.data(), bytes.size(), tuple, nowMs);
    }

    IceResult send(const std::vector<uint8_t>& bytes, const Tuple& tuple, uint64_t nowMs = 0) {
        return server.processStunPacket(bytes.data(), bytes.size(), tuple, nowMs);
    }

    // The single response sent, parsed; checks its fingerprint and that it
    // answers kTxid.
    StunMessage onlyResponse() {
        EXPECT_EQ(listener.sent.size(), 1u);
        const auto& bytes = listener.sent.back().bytes;
        auto message = StunMessage::parse(bytes.data(), bytes.size());
        EXPECT_TRUE(message);
        EXPECT_TRUE(message->checkFingerprint());
        EXPECT_TRUE(std::equal(kTxid.begin(), kTxid.end(), message->transactionId().begin()));
        return *message;
    }

    void expectError(uint16_t code, bool authenticated) {
        const StunMessage response = onlyResponse();
        EXPECT_EQ(response.type(), kBindingErrorResponse);
        EXPECT_EQ(response.errorCode(), code);
        EXPECT_EQ(response.hasMessageIntegrity(), authenticated);
        if (authenticated) {
            EXPECT_TRUE(response.checkIntegrity(kPassword));
        }
        EXPECT_EQ(server.state(), IceState::New);
        EXPECT_TRUE(listener.events.empty());
        EXPECT_EQ(server.tupleCount(), 0u);
    }

    using Events = std::vector<std::string>;

    int udpSocket = 0;
    int tcpConnection = 0;
    RecordingListener listener;
    IceServer server;
    sockaddr_storage remote1;
    sockaddr_storage remote2;
    sockaddr_storage remote3;
    Tuple udp1;
    Tuple udp2;
    Tuple tcp3;
};

TEST_F(IceServerTest, ValidCheckIsAnsweredAndConnects) {
    EXPECT_EQ(server.state(), IceState::New);
    EXPECT_EQ(server.selectedTuple(), nullptr);
    ASSERT_EQ(send(goodCheck(), udp1), IceResult::Accepted);

    const StunMessage response = onlyResponse();
    EXPECT_TRUE(listener.sent[0].tuple == udp1);
    EXPECT_EQ(response.type(), kBindingSuccessResponse);
    EXPECT_TRUE(response.checkIntegrity(kPassword));
    EXPECT_FALSE(response.checkIntegrity("peerpassword"));
    sockaddr_storage mapped;
    ASSERT_TRUE(response.xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "198.51.100.1:5000");

    EXPECT_EQ(server.state(), IceState::Connected);
    EXPECT_EQ(listener.events, (Events{"selected", "connected"}));
    ASSERT_NE(server.selectedTuple(), nullptr);
    EXPECT_TRUE(*server.selectedTuple() == udp1);
    EXPECT_TRUE(listener.selected[0] == udp1);
    EXPECT_TRUE(server.isValidTuple(udp1));
    EXPECT_FALSE(server.isValidTuple(udp2));
    EXPECT_EQ(server.counters().validChecks, 1u);
}

TEST_F(IceServerTest, Ipv6OverTcp) {
    ASSERT_EQ(send(goodCheck(), tcp3), IceResult::Accepted);
    const StunMessage response = onlyResponse();
    sockaddr_storage mapped;
    ASSERT_TRUE(response.xorMappedAddress(mapped));
    EXPECT_EQ(describe(mapped), "[2001:db8::3]:7000");
    EXPECT_TRUE(listener.sent[0].tuple == tcp3);
    EXPECT_EQ(listener.sent[0].tuple.protocol(), Protocol::Tcp);
    EXPECT_EQ(listener.sent[0].tuple.local(), &tcpConnection);
}

TEST_F(IceServerTest, RepeatedChecksChangeNothing) {
    ASSERT_EQ(send(goodCheck(), udp1), IceResult::Accepted);
    listener.clear();
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(send(goodCheck(), udp1, 1000 * i), IceResult::Accepted);
    }
    EXPECT_EQ(listener.sent.size(), 5u);
    EXPECT_TRUE(listener.events.empty());
    EXPECT_EQ(server.tupleCount(), 1u);
}

TEST_F(IceServerTest, WrongUsernameGets401) {
    for (const std::string username :
         {"other:peer", "ourufrag", "ourufrag:", "ourufragX:peer", "ourufra:peer", ":ourufrag",
          "OURUFRAG:peer", "peer:ourufrag", ""}) {
        listener.clear();
        Check check = goodCheck();
        check.username = username;
        EXPECT_EQ(send(check, udp1), IceResult::BadUsername) << username;
        expectError(kErrorUnauthorized, false);
    }
    EXPECT_EQ(server.counters().badUsername, 9u);
}

TEST_F(IceServerTest, BadIntegrityGets401) {
    Check check = goodCheck();
    check.password = "wrongpassword";
    EXPECT_EQ(send(check, udp1), IceResult::BadIntegrity);
    expectError(kErrorUnauthorized, false);
    EXPECT_EQ(server.counters().badIntegrity, 1u);
}

TEST_F(IceServerTest, MissingPriorityGets400) {
    Check check = goodCheck();
    check.priority = false;
    EXPECT_EQ(send(check, udp1), IceResult::BadRequest);
    expectError(kErrorBadRequest, true);
    EXPECT_EQ(server.counters().badRequest, 1u);
}

TEST_F(IceServerTest, MissingRoleGets400) {
    Check check = goodCheck();
    check.controlling = false;
    EXPECT_EQ(send(check, udp1), IceResult::BadRequest);
    expectError(kErrorBadRequest, true);
}

TEST_F(IceServerTest, MissingUsernameOrIntegrityGets400) {
    Check check = goodCheck();
    check.integrity = false;
    EXPECT_EQ(send(check, udp1), IceResult::BadRequest);
    expectError(kErrorBadRequest, false);

    listener.clear();
    std::array<uint8_t, 128> buffer{};
    StunBuilder builder(buffer.data(), buffer.size(), kBindingRequest, kTxid);
    builder.addPriority(1);
    builder.addIceControlling(1);
    HmacSha1 keyed(kPassword);
    builder.addMessageIntegrity(keyed);
    builder.addFingerprint();
    EXPECT_EQ(server.processStunPacket(buffer.data(), builder.size(), udp1, 0),
              IceResult::BadRequest);
    expectError(kErrorBadRequest, false);
}

TEST_F(IceServerTest, OtherMethodGets400) {
    Check check = goodCheck();
    check.type = stunType(0x003, StunClass::Request); // TURN Allocate
    EXPECT_EQ(send(check, udp1), IceResult::BadRequest);
    expectError(kErrorBadRequest, false);
}

TEST_F(IceServerTest, ControlledPeerGets487) {
    Check check = goodCheck();
    check.controlling = false;
    check.controlled = true;
    EXPECT_EQ(send(check, udp1), IceResult::RoleConflict);
    expectError(kErrorRoleConflict, true);
    // Claiming both is no better.
    listener.clear();
    check.controlling = true;
    EXPECT_EQ(send(check, udp1), IceResult::RoleConflict);
    expectError(kErrorRoleConflict, true);
    EXPECT_EQ(server.counters().roleConflict, 2u);
}

TEST(IceServerRfc5769, SampleRequestIsARoleConflict) {
    // The RFC's request comes from a controlled agent: a lite server with its
    // credentials must authenticate it and answer 487 under its password.
    RecordingListener listener;
    IceServer server(listener, "evtj", std::string(kRfc5769Password));
    const auto bytes = fromHex(kRfc5769Request);
    const auto remote = ipv4("192.0.2.1", 32853);
    int socket = 0;
    EXPECT_EQ(server.processStunPacket(bytes.data(), bytes.size(),
                                       Tuple(Protocol::Udp, &socket, sa(remote)), 0),
              IceResult::RoleConflict);
    ASSERT_EQ(listener.sent.size(), 1u);
    const auto response =
        StunMessage::parse(listener.sent[0].bytes.data(), listener.sent[0].bytes.size());
    ASSERT_TRUE(response);
    EXPECT_EQ(response->errorCode(), 487);
    EXPECT_TRUE(response->checkIntegrity(kRfc5769Password));
    EXPECT_EQ(response->transactionId()[0], 0xb7);
}

TEST_F(IceServerTest, UnknownRequiredAttributesGet420) {
    Check check = goodCheck();
    check.extraRequired = {0x0042, 0x0043};
    EXPECT_EQ(send(check, udp1), IceResult::UnknownAttributes);
    expectError(kErrorUnknownAttribute, true);
    // UNKNOWN-ATTRIBUTES lists both types.
    const auto& bytes = listener.sent[0].bytes;
    bool found = false;
    for (size_t at = kStunHeaderSize; at + 4 <= bytes.size();) {
        const uint16_t type = bytes::get16(bytes.data() + at);
        const uint16_t length = bytes::get16(bytes.data() + at + 2);
        if (type == kAttrUnknownAttributes) {
            ASSERT_EQ(length, 4);
            EXPECT_EQ(bytes::get16(bytes.data() + at + 4), 0x0042);
            EXPECT_EQ(bytes::get16(bytes.data() + at + 6), 0x0043);
            found = true;
        }
        at += 4 + length + bytes::padTo4(length);
    }
    EXPECT_TRUE(found);
}

TEST_F(IceServerTest, BadFingerprintDroppedSilently) {
    auto bytes = build(goodCheck());
    bytes.back() ^= 0x01;
    EXPECT_EQ(send(bytes, udp1), IceResult::BadFingerprint);
    Check check = goodCheck();
    check.fingerprint = false;
    EXPECT_EQ(send(check, udp1), IceResult::BadFingerprint);
    EXPECT_TRUE(listener.sent.empty());
    EXPECT_TRUE(listener.events.empty());
    EXPECT_EQ(server.counters().badFingerprint, 2u);
    EXPECT_EQ(server.state(), IceState::New);
}

TEST_F(IceServerTest, ResponsesAndIndicationsDropped) {
    for (const uint16_t type :
         {kBindingIndication, kBindingSuccessResponse, kBindingErrorResponse}) {
        Check check = goodCheck();
        check.type = type;
        EXPECT_EQ(send(check, udp1), IceResult::NotRequest);
    }
    EXPECT_EQ(send(fromHex(kRfc5769Ipv4Response), udp1), IceResult::NotRequest);
    EXPECT_TRUE(listener.sent.empty());
    EXPECT_EQ(server.counters().notRequest, 4u);
}

TEST_F(IceServerTest, MalformedDropped) {
    const std::vector<uint8_t> garbage = {0x00, 0x01, 0x00, 0x00};
    EXPECT_EQ(send(garbage, udp1), IceResult::Malformed);
    EXPECT_EQ(server.processStunPacket(nullptr, 0, udp1, 0), IceResult::Malformed);
    EXPECT_TRUE(listener.sent.empty());
    EXPECT_EQ(server.counters().malformed, 2u);
}

TEST_F(IceServerTest, TupleWithoutAddressIgnored) {
    const Tuple none(Protocol::Udp, &udpSocket, nullptr);
    EXPECT_FALSE(none.valid());
    EXPECT_EQ(send(goodCheck(), none), IceResult::InvalidTuple);
    EXPECT_TRUE(listener.sent.empty());
}

TEST_F(IceServerTest, UseCandidateCompletes) {
    Check check = goodCheck();
    check.useCandidate = true;
    ASSERT_EQ(send(check, udp1), IceResult::Accepted);
    EXPECT_EQ(server.state(), IceState::Completed);
    EXPECT_EQ(listener.events, (Events{"selected", "completed"}));
    EXPECT_TRUE(*server.selectedTuple() == udp1);
}

TEST_F(IceServerTest, ConnectedThenNominatedOnSameTuple) {
    ASSERT_EQ(send(goodCheck(), udp1), IceResult::Accepted);
    listener.clear();
    Check check = goodCheck();
    check.useCandidate = true;
    ASSERT_EQ(send(check, udp1), IceResult::Accepted);
    EXPECT_EQ(server.state(), IceState::Completed);
    EXPECT_EQ(listener.events, (Events{"completed"}));
}

TEST_F(IceServerTest, ConnectedThenNominatedOnOtherTuple) {
    ASSERT_EQ(send(goodCheck(), udp1), IceResult::Accepted);
    ASSERT_EQ(send(goodCheck(), udp2), IceResult::Accepted);
    EXPECT_TRUE(*server.selectedTuple() == udp1); // checks alone do not move it
    listener.clear();
    Check check = goodCheck();
    check.useCandidate = true;
    ASSERT_EQ(send(check, udp2), IceResult::Accepted);
    EXPECT_EQ(listener.events, (Events{"selected", "completed"}));
    EXPECT_TRUE(*server.selectedTuple() == udp2);
}

TEST_F(IceServerTest, SecondNominationChangesSelectedTuple) {
    Check check = goodCheck();
    check.useCandidate = true;
    ASSERT_EQ(send(check, udp1), IceResult::Accepted);
    listener.clear();

    // A plain check from another tuple makes it valid but not selected.
    ASSERT_EQ(send(goodCheck(), udp2), IceResult::Accepted);
    EXPECT_TRUE(listener.events.empty());
    EXPECT_TRUE(server.isValidTuple(udp2));
    EXPECT_TRUE(*server.selectedTuple() == udp1);

    ASSERT_EQ(send(check, udp2), IceResult::Accepted);
    EXPECT_EQ(listener.events, (Events{"selected"}));
    ASSERT_EQ(listener.selected.size(), 1u);
    EXPECT_TRUE(listener.selected[0] == udp2);
    EXPECT_TRUE(*server.selectedTuple() == udp2);
    EXPECT_EQ(server.state(), IceState::Completed);

    // Nominating the selected tuple again says nothing.
    listener.clear();
    ASSERT_EQ(send(check, udp2), IceResult::Accepted);
    EXPECT_TRUE(listener.events.empty());
}

TEST_F(IceServerTest, RemoveSelectedTupleFallsBackThenDisconnects) {
    Check nominate = goodCheck();
    nominate.useCandidate = true;
    ASSERT_EQ(send(nominate, udp1, 100), IceResult::Accepted);
    ASSERT_EQ(send(goodCheck(), tcp3, 200), IceResult::Accepted);
    ASSERT_EQ(send(goodCheck(), udp2, 300), IceResult::Accepted);
    listener.clear();

    // Removing a tuple nobody uses changes nothing.
    server.removeTuple(tcp3);
    EXPECT_TRUE(listener.events.empty());
    EXPECT_FALSE(server.isValidTuple(tcp3));
    server.removeTuple(tcp3); // twice is harmless
    EXPECT_TRUE(listener.events.empty());

    server.removeTuple(udp1);
    EXPECT_EQ(listener.events, (Events{"selected"}));
    EXPECT_TRUE(*server.selectedTuple() == udp2);
    EXPECT_EQ(server.state(), IceState::Completed);

    listener.clear();
    server.removeTuple(udp2);
    EXPECT_EQ(listener.events, (Events{"disconnected"}));
    EXPECT_EQ(server.state(), IceState::Disconnected);
    EXPECT_EQ(server.selectedTuple(), nullptr);
    EXPECT_EQ(server.tupleCount(), 0u);

    // The next valid check reconnects as from New.
    listener.clear();
    ASSERT_EQ(send(goodCheck(), udp1, 400), IceResult::Accepted);
    EXPECT_EQ(listener.events, (Events{"selected", "connected"}));
    EXPECT_EQ(server.state(), IceState::Connected);
}

TEST_F(IceServerTest, RemoveTupleDisconnects) {
    ASSERT_EQ(send(goodCheck(), tcp3), IceResult::Accepted);
    listener.clear();
    server.removeTuple(Tuple(Protocol::Tcp, &tcpConnection, sa(remote3)));
    EXPECT_EQ(listener.events, (Events{"disconnected"}));
    EXPECT_EQ(server.state(), IceState::Disconnected);
}

TEST_F(IceServerTest, ConsentExpiresAfter30Seconds) {
    ASSERT_EQ(send(goodCheck(), udp1, 1000), IceResult::Accepted);
    listener.clear();
    server.tick(1000 + 29999);
    EXPECT_TRUE(listener.events.empty());
    EXPECT_EQ(server.state(), IceState::Connected);
    server.tick(1000 + 30000);
    EXPECT_EQ(listener.events, (Events{"disconnected"}));
    EXPECT_EQ(server.state(), IceState::Disconnected);
    EXPECT_FALSE(server.isValidTuple(udp1));
    // Ticking on does nothing more.
    server.tick(100000);
    EXPECT_EQ(listener.events.size(), 1u);
}

TEST_F(IceServerTest, ConsentRefreshedByChecks) {
    for (uint64_t t = 0; t <= 120000; t += 5000) {
        ASSERT_EQ(send(goodCheck(), udp1, t), IceResult::Accepted);
        server.tick(t + 2500);
    }
    EXPECT_EQ(server.state(), IceState::Connected);
    // A failed check does not refresh consent.
    Check bad = goodCheck();
    bad.password = "nope";
    EXPECT_EQ(send(bad, udp1, 140000), IceResult::BadIntegrity);
    server.tick(150000);
    EXPECT_EQ(server.state(), IceState::Disconnected);
}

TEST_F(IceServerTest, ConsentExpiryFallsBackToFreshTuple) {
    Check nominate = goodCheck();
    nominate.useCandidate = true;
    ASSERT_EQ(send(nominate, udp1, 0), IceResult::Accepted);
    ASSERT_EQ(send(goodCheck(), udp2, 20000), IceResult::Accepted);
    listener.clear();
    server.tick(30000);
    EXPECT_EQ(listener.events, (Events{"selected"}));
    EXPECT_TRUE(*server.selectedTuple() == udp2);
    EXPECT_EQ(server.tupleCount(), 1u);
    listener.clear();
    server.tick(50000);
    EXPECT_EQ(listener.events, (Events{"disconnected"}));
}

TEST_F(IceServerTest, RestartIceRejectsOldCredentials) {
    Check nominate = goodCheck();
    nominate.useCandidate = true;
    ASSERT_EQ(send(nominate, udp1, 0), IceResult::Accepted);
    listener.clear();

    server.restartIce("newufrag", "newpassword0123456789abcd");
    EXPECT_EQ(server.usernameFragment(), "newufrag");
    EXPECT_EQ(server.password(), "newpassword0123456789abcd");
    // Media goes on meanwhile.
    EXPECT_EQ(server.state(), IceState::Completed);
    EXPECT_TRUE(*server.selectedTuple() == udp1);

    EXPECT_EQ(send(goodCheck(), udp1, 1000), IceResult::BadUsername);
    // The new ufrag with the old password fails integrity.
    Check mixed = goodCheck();
    mixed.username = "newufrag:peer";
    listener.clear();
    EXPECT_EQ(send(mixed, udp1, 1000), IceResult::BadIntegrity);
    ASSERT_EQ(listener.sent.size(), 1u);

    Check fresh = goodCheck();
    fresh.username = "newufrag:peer2";
    fresh.password = "newpassword0123456789abcd";
    listener.clear();
    ASSERT_EQ(send(fresh, udp1, 2000), IceResult::Accepted);
    const StunMessage response = onlyResponse();
    EXPECT_TRUE(response.checkIntegrity("newpassword0123456789abcd"));
    EXPECT_FALSE(response.checkIntegrity(kPassword));
    EXPECT_TRUE(listener.events.empty());
}

TEST_F(IceServerTest, RestartIceWithoutNewChecksExpiresConsent) {
    ASSERT_EQ(send(goodCheck(), udp1, 0), IceResult::Accepted);
    server.restartIce();
    EXPECT_EQ(send(goodCheck(), udp1, 10000), IceResult::BadUsername);
    server.tick(30000);
    EXPECT_EQ(server.state(), IceState::Disconnected);
}

bool isToken(const std::string& token, size_t length) {
    return token.size() == length && std::all_of(token.begin(), token.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
           });
}

TEST(IceServerCredentials, RandomAndWellFormed) {
    RecordingListener listener;
    IceServer a(listener);
    IceServer b(listener);
    EXPECT_TRUE(isToken(a.usernameFragment(), 16));
    EXPECT_TRUE(isToken(a.password(), 32));
    EXPECT_NE(a.usernameFragment(), b.usernameFragment());
    EXPECT_NE(a.password(), b.password());
    const std::string oldUfrag = a.usernameFragment();
    const std::string oldPassword = a.password();
    a.restartIce();
    EXPECT_TRUE(isToken(a.usernameFragment(), 16));
    EXPECT_TRUE(isToken(a.password(), 32));
    EXPECT_NE(a.usernameFragment(), oldUfrag);
    EXPECT_NE(a.password(), oldPassword);
}

TEST(IceServerCredentials, EveryCharacterAppears) {
    std::set<char> seen;
    for (int i = 0; i < 20; ++i) {
        const std::string token = randomIceToken(100);
        seen.insert(token.begin(), token.end());
    }
    EXPECT_EQ(seen.size(), 36u);
    EXPECT_EQ(randomIceToken(0), "");
}

TEST(IceServerCredentials, Validated) {
    RecordingListener listener;
    EXPECT_THROW(IceServer(listener, "", "pw"), Error);
    EXPECT_THROW(IceServer(listener, "uf", ""), Error);
    EXPECT_THROW(IceServer(listener, "u:f", "pw"), Error);
    IceServer server(listener, "uf", "pw");
    EXPECT_THROW(server.restartIce("a:b", "pw"), Error);
    // A refused restart keeps the old credentials working.
    EXPECT_EQ(server.usernameFragment(), "uf");
    EXPECT_EQ(server.password(), "pw");
}

TEST_F(IceServerTest, TupleListIsBounded) {
    Check nominate = goodCheck();
    nominate.useCandidate = true;
    ASSERT_EQ(send(nominate, udp1, 0), IceResult::Accepted);
    std::vector<sockaddr_storage> remotes;
    for (int i = 0; i < 12; ++i) {
        remotes.push_back(ipv4("203.0.113.9", static_cast<uint16_t>(10000 + i)));
    }
    for (int i = 0; i < 12; ++i) {
        const Tuple tuple(Protocol::Udp, &udpSocket, sa(remotes[i]));
        ASSERT_EQ(send(goodCheck(), tuple, 1000 + static_cast<uint64_t>(i)), IceResult::Accepted);
        EXPECT_LE(server.tupleCount(), IceServer::kMaxTuples);
    }
    EXPECT_EQ(server.tupleCount(), IceServer::kMaxTuples);
    // The selected tuple survives, though it is the oldest; the least recent
    // others made room.
    EXPECT_TRUE(server.isValidTuple(udp1));
    EXPECT_TRUE(*server.selectedTuple() == udp1);
    for (int i = 0; i < 12; ++i) {
        const Tuple tuple(Protocol::Udp, &udpSocket, sa(remotes[i]));
        EXPECT_EQ(server.isValidTuple(tuple), i >= 5) << i;
    }
}

// A transport sharing its socket routes a tuple's packets to itself exactly
// while ICE keeps the tuple: it is told of each one added and each one gone
// (evicted, removed, expired), and of nothing else.
TEST_F(IceServerTest, TellsWhichTuplesItKeeps) {
    ASSERT_EQ(send(goodCheck(), udp1, 0), IceResult::Accepted);
    ASSERT_EQ(send(goodCheck(), udp1, 10), IceResult::Accepted);
    ASSERT_EQ(listener.added.size(), 1u);
    EXPECT_TRUE(listener.added[0] == udp1);
    EXPECT_TRUE(listener.removed.empty());

    std::vector<sockaddr_storage> remotes;
    for (size_t i = 0; i < IceServer::kMaxTuples; ++i) {
        remotes.push_back(ipv4("203.0.113.9", static_cast<uint16_t>(10000 + i)));
    }
    for (size_t i = 0; i < remotes.size(); ++i) {
        const Tuple tuple(Protocol::Udp, &udpSocket, sa(remotes[i]));
        ASSERT_EQ(send(goodCheck(), tuple, 100 + i), IceResult::Accepted);
    }
    // One more than fits: the oldest unselected one (the first of these)
    // was evicted.
    EXPECT_EQ(listener.added.size(), 1 + IceServer::kMaxTuples);
    ASSERT_EQ(listener.removed.size(), 1u);
    EXPECT_TRUE(listener.removed[0] == Tuple(Protocol::Udp, &udpSocket, sa(remotes[0])));

    const Tuple last(Protocol::Udp, &udpSocket, sa(remotes.back()));
    server.removeTuple(last);
    ASSERT_EQ(listener.removed.size(), 2u);
    EXPECT_TRUE(listener.removed[1] == last);
    // Everything left expires: each one is reported once.
    server.tick(100000);
    EXPECT_EQ(listener.removed.size(), listener.added.size());
    EXPECT_EQ(server.tupleCount(), 0u);
}

TEST(Tuple, Equality) {
    int socketA = 0;
    int socketB = 0;
    const auto v4 = ipv4("10.0.0.1", 1000);
    const auto v4port = ipv4("10.0.0.1", 1001);
    const auto v4ip = ipv4("10.0.0.2", 1000);
    auto v6 = ipv6("fe80::1", 1000);
    const Tuple base(Protocol::Udp, &socketA, sa(v4));
    EXPECT_TRUE(base == Tuple(Protocol::Udp, &socketA, sa(v4)));
    EXPECT_FALSE(base == Tuple(Protocol::Tcp, &socketA, sa(v4)));
    EXPECT_FALSE(base == Tuple(Protocol::Udp, &socketB, sa(v4)));
    EXPECT_FALSE(base == Tuple(Protocol::Udp, &socketA, sa(v4port)));
    EXPECT_FALSE(base == Tuple(Protocol::Udp, &socketA, sa(v4ip)));
    EXPECT_FALSE(base == Tuple(Protocol::Udp, &socketA, sa(v6)));
    const Tuple six(Protocol::Udp, &socketA, sa(v6));
    reinterpret_cast<sockaddr_in6&>(v6).sin6_scope_id = 3;
    reinterpret_cast<sockaddr_in6&>(v6).sin6_flowinfo = 7;
    EXPECT_TRUE(six == Tuple(Protocol::Udp, &socketA, sa(v6)));
    EXPECT_EQ(six.remoteLength(), sizeof(sockaddr_in6));
    EXPECT_EQ(base.remoteLength(), sizeof(sockaddr_in));
    EXPECT_EQ(Tuple().remoteLength(), 0u);
    EXPECT_FALSE(Tuple().valid());
}

// Every truncation and every flipped bit of a valid check: never accepted,
// never a crash, never a state change.
TEST_F(IceServerTest, HostileChecksNeverAccepted) {
    Check check = goodCheck();
    check.useCandidate = true;
    const auto original = build(check);
    for (size_t size = 0; size < original.size(); ++size) {
        std::vector<uint8_t> cut(original.begin(), original.begin() + static_cast<long>(size));
        EXPECT_NE(send(cut, udp1), IceResult::Accepted) << size;
    }
    for (size_t i = 0; i < original.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto bytes = original;
            bytes[i] ^= static_cast<uint8_t>(1 << bit);
            EXPECT_NE(send(bytes, udp1), IceResult::Accepted) << i << "/" << bit;
        }
    }
    EXPECT_EQ(server.state(), IceState::New);
    EXPECT_TRUE(listener.events.empty());
    EXPECT_EQ(server.counters().validChecks, 0u);
    EXPECT_EQ(send(original, udp1), IceResult::Accepted);
}

// A listener that reacts inside its callbacks, as a transport might.
class ReentrantListener : public RecordingListener {
public:
    void onIceSelectedTuple(const Tuple& tuple) override {
        RecordingListener::onIceSelectedTuple(tuple);
        if (server != nullptr && removeOnSelect) {
            removeOnSelect = false;
            server->removeTuple(tuple);
        }
    }
    IceServer* server = nullptr;
    bool removeOnSelect = true;
};

TEST(IceServerReentrancy, RemovingInsideCallbackIsSafe) {
    ReentrantListener listener;
    IceServer server(listener, "uf", "pw");
    listener.server = &server;
    int socket = 0;
    const auto remote = ipv4("192.0.2.50", 1234);
    const Tuple tuple(Protocol::Udp, &socket, sa(remote));
    Check check;
    check.username = "uf:x";
    check.password = "pw";
    const auto bytes = build(check);
    EXPECT_EQ(server.processStunPacket(bytes.data(), bytes.size(), tuple, 0), IceResult::Accepted);
    // The removal disconnected us before "connected" could be reported, so
    // it is not: the listener never hears of a state we are no longer in.
    EXPECT_EQ(listener.events, (std::vector<std::string>{"selected", "disconnected"}));
    EXPECT_EQ(server.state(), IceState::Disconnected);
    EXPECT_EQ(server.tupleCount(), 0u);
}

TEST(IceServerState, Names) {
    EXPECT_EQ(iceStateName(IceState::New), "new");
    EXPECT_EQ(iceStateName(IceState::Connected), "connected");
    EXPECT_EQ(iceStateName(IceState::Completed), "completed");
    EXPECT_EQ(iceStateName(IceState::Disconnected), "disconnected");
}

} // namespace
} // namespace sfu::ice::test
