// Feeds arbitrary bytes to an SCTP association as packets from the wire,
// interleaved with its owner's own calls (sends of any size and PPID,
// timers, stream resets, close). Each input gets a fresh pair of
// associations, A (the target) and B (a well-behaved peer).
//
// Input: a flags byte, then records of an op byte and a two-byte length
// followed by that many bytes (cut short by the end of the input).
//   flags bit 0  bring the pair to Connected first, so that data chunks
//                reach the message and PPID layer;
//         bit 1  write the right CRC32c into every fuzzed packet (usrsctp
//                drops the rest before parsing);
//         bit 2  write A's verification tag into every fuzzed packet that
//                does not start with INIT.
//   op % 6  0  the payload is one packet into A;
//           1  A sends a message: payload[0] picks the PPID and reliability,
//              payload[1..2] the length (up to 65535 bytes plus 64 KiB
//              steps from payload[3]);
//           2  advance the timers by payload[0] * 4 ms;
//           3  deliver what A and B have queued for each other, once;
//           4  A resets the stream payload[0..1];
//           5  A closes.
// Checked: the state only moves forward (close() may follow a failure), the buffered amount stays
// within the send buffer, no delivered message exceeds the size limit.
//
// SFU_SCTP_SEEDS=<dir> makes the binary write its seed corpus there (real
// packets of a handshake and a data exchange, in the format above) and exit.
#include "protocol/sctp/SctpAssociation.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <usrsctp.h>
#include <vector>

using namespace sfu::sctp;

namespace {

using Bytes = std::vector<uint8_t>;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

constexpr uint32_t kMaxMessageSize = 262144;
constexpr uint32_t kSendBufferSize = 262144;

int rank(State state) {
    switch (state) {
    case State::New:
        return 0;
    case State::Connecting:
        return 1;
    case State::Connected:
        return 2;
    case State::Failed:
        return 3;
    case State::Closed:
        return 4;
    }
    return 5;
}

class Peer : public SctpAssociation::Listener {
public:
    void onSctpStateChanged(State state) override {
        check(rank(state) > rank(last));
        last = state;
    }
    void onSctpSendPacket(const uint8_t* data, size_t length) override {
        check(length >= 12);
        if (outbox.size() < 512) {
            outbox.emplace_back(data, data + length);
        }
    }
    void onSctpMessage(uint16_t, uint32_t, const uint8_t*, size_t length) override {
        check(length <= kMaxMessageSize);
    }
    void onSctpIncomingStreamReset(uint16_t) override {}
    void onSctpBufferedAmount(uint32_t amount) override { check(amount <= kSendBufferSize); }

    State last = State::New;
    std::deque<Bytes> outbox;
    // The verification tag of the last packet received, i.e. this side's own.
    uint32_t tag = 0;
    std::unique_ptr<SctpAssociation> association;
};

SctpAssociation::Options options() {
    SctpAssociation::Options o;
    o.maxMessageSize = kMaxMessageSize;
    o.sendBufferSize = kSendBufferSize;
    return o;
}

struct Pair {
    Peer a;
    Peer b;

    Pair() {
        a.association = std::make_unique<SctpAssociation>(options(), a);
        b.association = std::make_unique<SctpAssociation>(options(), b);
    }

    // Packets seen on the way, for the seed writer.
    std::vector<Bytes>* tap = nullptr;

    void deliver() {
        std::deque<Bytes> fromA;
        std::deque<Bytes> fromB;
        fromA.swap(a.outbox);
        fromB.swap(b.outbox);
        for (const Bytes& p : fromA) {
            if (tap != nullptr) {
                tap->push_back(p);
            }
            std::memcpy(&b.tag, p.data() + 4, 4);
            b.association->receivePacket(p.data(), p.size());
        }
        for (const Bytes& p : fromB) {
            if (tap != nullptr) {
                tap->push_back(p);
            }
            std::memcpy(&a.tag, p.data() + 4, 4);
            a.association->receivePacket(p.data(), p.size());
        }
    }

    bool connect() {
        b.association->connect();
        for (int i = 0; i < 10; ++i) {
            deliver();
            if (a.association->state() == State::Connected &&
                b.association->state() == State::Connected) {
                return true;
            }
        }
        return false;
    }
};

void setChecksum(Bytes& packet) {
    std::memset(packet.data() + 8, 0, 4);
    const uint32_t crc = usrsctp_crc32c(packet.data(), packet.size());
    std::memcpy(packet.data() + 8, &crc, 4);
}

void sendFrom(Peer& peer, const uint8_t* p, size_t n) {
    const uint8_t selector = n > 0 ? p[0] : 0;
    static constexpr uint32_t kPpids[] = {kPpidDcep,        kPpidString,        kPpidBinaryPartial,
                                          kPpidBinary,      kPpidStringPartial, kPpidStringEmpty,
                                          kPpidBinaryEmpty, 0xdeadbeef};
    size_t length = n > 2 ? static_cast<size_t>(p[1] << 8 | p[2]) : 1;
    if (n > 3) {
        length += static_cast<size_t>(p[3] % 5) * 65536;
    }
    SendParameters parameters;
    parameters.streamId = static_cast<uint16_t>(selector >> 5);
    parameters.ordered = (selector & 8) == 0;
    if ((selector & 16) != 0) {
        parameters.maxRetransmits = selector & 3;
    } else if ((selector & 4) != 0) {
        parameters.maxPacketLifeTime = 10;
    }
    Bytes data(length, selector);
    peer.association->sendMessage(parameters, kPpids[selector & 7], data.data(), data.size());
}

void run(const uint8_t* data, size_t size) {
    if (size == 0) {
        return;
    }
    const uint8_t flags = data[0];
    size_t off = 1;
    Pair pair;
    if ((flags & 1) != 0) {
        check(pair.connect());
    }
    SctpAssociation& a = *pair.a.association;
    while (off < size) {
        const uint8_t op = data[off++];
        size_t n = 0;
        if (off + 2 <= size) {
            n = static_cast<size_t>(data[off] << 8 | data[off + 1]);
            off += 2;
        } else {
            off = size;
        }
        n = n < size - off ? n : size - off;
        const uint8_t* p = data + off;
        off += n;
        switch (op % 6) {
        case 0: {
            Bytes packet(p, p + n);
            if (packet.size() >= 12) {
                if ((flags & 4) != 0 && (packet.size() < 13 || packet[12] != 1)) {
                    std::memcpy(packet.data() + 4, &pair.a.tag, 4);
                }
                if ((flags & 2) != 0) {
                    setChecksum(packet);
                }
            }
            a.receivePacket(packet.data(), packet.size());
            break;
        }
        case 1:
            sendFrom(pair.a, p, n);
            break;
        case 2:
            advanceTimers(n > 0 ? p[0] * 4u : 1u);
            break;
        case 3:
            pair.deliver();
            break;
        case 4:
            a.resetStream(n >= 2 ? static_cast<uint16_t>(p[0] << 8 | p[1]) : 0);
            break;
        case 5:
            a.close();
            check(a.state() == State::Closed);
            break;
        }
        check(a.bufferedAmount() <= kSendBufferSize);
    }
}

void put(Bytes& input, uint8_t op, const Bytes& payload) {
    input.push_back(op);
    input.push_back(static_cast<uint8_t>(payload.size() >> 8));
    input.push_back(static_cast<uint8_t>(payload.size()));
    input.insert(input.end(), payload.begin(), payload.end());
}

void writeSeed(const std::string& dir, const std::string& name, const Bytes& input) {
    const std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    check(f != nullptr);
    check(std::fwrite(input.data(), 1, input.size(), f) == input.size());
    std::fclose(f);
}

// Records a handshake (B connecting to A) and a data exchange, then writes
// one seed per interesting packet plus a few operation sequences.
void writeSeeds(const std::string& dir) {
    std::vector<Bytes> packets;
    {
        Pair pair;
        pair.tap = &packets;
        check(pair.connect());
        Bytes payload(300, 0x61);
        SendParameters onStream1;
        onStream1.streamId = 1;
        pair.b.association->sendMessage(onStream1, kPpidString, payload.data(), payload.size());
        Bytes big(5000, 0x62);
        pair.b.association->sendMessage({}, kPpidBinary, big.data(), big.size());
        pair.b.association->resetStream(1);
        for (int i = 0; i < 5; ++i) {
            pair.deliver();
            advanceTimers(250);
        }
        pair.b.association->close();
        pair.deliver();
    }
    // CRC check of the fix-up against a packet usrsctp wrote itself.
    Bytes again = packets.front();
    setChecksum(again);
    check(again == packets.front());

    const char* names[256] = {};
    names[0] = "data";
    names[1] = "init";
    names[2] = "init_ack";
    names[3] = "sack";
    names[4] = "heartbeat";
    names[6] = "abort";
    names[10] = "cookie_echo";
    names[11] = "cookie_ack";
    names[130] = "reconfig";
    int index = 0;
    for (const Bytes& p : packets) {
        const uint8_t type = p.size() > 12 ? p[12] : 0;
        const char* name = names[type] != nullptr ? names[type] : "chunk";
        // INIT and the handshake to a fresh A, the rest to a connected one.
        const bool handshake = type == 1 || type == 2 || type == 10 || type == 11;
        Bytes input{static_cast<uint8_t>(handshake ? 2 : 1 | 2 | 4)};
        put(input, 0, p);
        put(input, 3, {});
        writeSeed(dir, std::to_string(index++) + "_" + name, input);
    }
    Bytes ops{1 | 2 | 4};
    put(ops, 1, {0x01, 0x01, 0x00});
    put(ops, 3, {});
    put(ops, 1, {0x3b, 0x10, 0x00, 0x01});
    put(ops, 3, {});
    put(ops, 2, {50});
    put(ops, 4, {0x00, 0x01});
    put(ops, 3, {});
    put(ops, 5, {});
    put(ops, 3, {});
    writeSeed(dir, "ops_send_reset_close", ops);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("SFU_SCTP_SEEDS")) {
        writeSeeds(dir);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    run(data, size);
    // Let usrsctp finish freeing what the closed sockets left behind.
    advanceTimers(1000);
    return 0;
}
