// Shared helpers for the ice unit tests: hex, addresses, the RFC 5769
// vectors, a request builder and a listener that records what it is told.
#pragma once

#include "TestUtil.hpp"
#include "protocol/ice/IceServer.hpp"
#include "protocol/ice/StunBuilder.hpp"
#include "protocol/ice/StunMessage.hpp"

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::ice::test {

using sfu::test::fromHex;

inline sockaddr_storage ipv4(const char* ip, uint16_t port) {
    sockaddr_storage storage{};
    auto& in = reinterpret_cast<sockaddr_in&>(storage);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET, ip, &in.sin_addr), 1);
    return storage;
}

inline sockaddr_storage ipv6(const char* ip, uint16_t port) {
    sockaddr_storage storage{};
    auto& in = reinterpret_cast<sockaddr_in6&>(storage);
    in.sin6_family = AF_INET6;
    in.sin6_port = htons(port);
    EXPECT_EQ(inet_pton(AF_INET6, ip, &in.sin6_addr), 1);
    return storage;
}

inline const sockaddr* sa(const sockaddr_storage& storage) {
    return reinterpret_cast<const sockaddr*>(&storage);
}

// "ip:port" / "[ip]:port", for readable expectations. Built by appending:
// GCC 12 warns falsely (-Wrestrict) about `"[" + std::string(...)`.
inline std::string describe(const sockaddr* address) {
    char text[INET6_ADDRSTRLEN] = {};
    std::string out;
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        out.append(text);
        out.append(":");
        out.append(std::to_string(ntohs(in->sin_port)));
    } else if (address->sa_family == AF_INET6) {
        const auto* in = reinterpret_cast<const sockaddr_in6*>(address);
        inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof(text));
        out.append("[");
        out.append(text);
        out.append("]:");
        out.append(std::to_string(ntohs(in->sin6_port)));
    } else {
        out.append("?");
    }
    return out;
}

inline std::string describe(const sockaddr_storage& storage) {
    return describe(sa(storage));
}

// RFC 5769 2.1-2.3: short-term credential vectors.
inline constexpr std::string_view kRfc5769Password = "VOkJxbRl1RmTxUk/WvJxBt";
inline constexpr std::string_view kRfc5769Request =
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf";
inline constexpr std::string_view kRfc5769Ipv4Response =
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96";
inline constexpr std::string_view kRfc5769Ipv6Response =
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c";

inline constexpr std::array<uint8_t, kTransactionIdSize> kTxid = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};

// A connectivity check as a browser sends it, every part switchable.
struct Check {
    std::string username;
    std::string password;
    uint16_t type = kBindingRequest;
    bool priority = true;
    bool controlling = true;
    bool controlled = false;
    bool useCandidate = false;
    bool integrity = true;
    bool fingerprint = true;
    std::vector<uint16_t> extraRequired;
    std::array<uint8_t, kTransactionIdSize> transactionId = kTxid;
};

inline std::vector<uint8_t> build(const Check& check) {
    std::vector<uint8_t> buffer(1024);
    StunBuilder builder(buffer.data(), buffer.size(), check.type, check.transactionId);
    builder.addUsername(check.username);
    for (const uint16_t type : check.extraRequired) {
        const uint8_t value[4] = {1, 2, 3, 4};
        builder.addAttribute(type, value);
    }
    if (check.priority) {
        builder.addPriority(0x6e0001ff);
    }
    if (check.controlling) {
        builder.addIceControlling(0x1122334455667788ull);
    }
    if (check.controlled) {
        builder.addIceControlled(0x8877665544332211ull);
    }
    if (check.useCandidate) {
        builder.addUseCandidate();
    }
    if (check.integrity) {
        HmacSha1 keyed(check.password);
        builder.addMessageIntegrity(keyed);
    }
    if (check.fingerprint) {
        builder.addFingerprint();
    }
    EXPECT_TRUE(builder.ok());
    buffer.resize(builder.size());
    return buffer;
}

// Records everything IceServer tells the transport.
class RecordingListener : public IceServer::Listener {
public:
    struct Sent {
        std::vector<uint8_t> bytes;
        Tuple tuple;
    };

    void sendStunPacket(const uint8_t* data, size_t size, const Tuple& tuple) override {
        sent.push_back({std::vector<uint8_t>(data, data + size), tuple});
    }
    void onIceSelectedTuple(const Tuple& tuple) override {
        selected.push_back(tuple);
        events.push_back("selected");
    }
    void onIceConnected() override { events.push_back("connected"); }
    void onIceCompleted() override { events.push_back("completed"); }
    void onIceDisconnected() override { events.push_back("disconnected"); }
    void onIceTupleAdded(const Tuple& tuple) override { added.push_back(tuple); }
    void onIceTupleRemoved(const Tuple& tuple) override { removed.push_back(tuple); }

    void clear() {
        added.clear();
        removed.clear();
        sent.clear();
        selected.clear();
        events.clear();
    }

    std::vector<Sent> sent;
    std::vector<Tuple> selected;
    std::vector<std::string> events;
    // Tuples as ICE started and stopped keeping them.
    std::vector<Tuple> added;
    std::vector<Tuple> removed;
};

} // namespace sfu::ice::test
