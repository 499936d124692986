// A lossy RTP peer for the worker's loss recovery, built on the project's own
// RTP, RTCP, VP8 and recovery units.
//
//   sfu-loss_peer --mode=send --remote-port=P [options]
//     Sends --packets VP8-looking packets at --rate packets/s to the worker's
//     producer PlainTransport (comedia, rtcp-mux) from one UDP socket. A
//     seeded --loss share of them is dropped before sending (never the first
//     nor the last packet: a loss at either end is invisible to any NACK
//     receiver). Every packet is kept; each NACK from the worker is answered
//     with an RTX packet (own ssrc, payload type and sequence numbers, the
//     original sequence number first in the payload) or, with --plain, with
//     the original packet. Retransmissions are dropped at --rtx-loss too,
//     and the first --rtx-drop-first of each packet always (late repairs);
//     --drop-indices=I,J,... drops those originals on top of the seeded loss.
//     After the last packet it keeps answering NACKs for --linger-ms.
//
//   sfu-loss_peer --mode=recv --remote-port=P [options]
//     Binds --local-port (0: any), prints {"event":"listening","port":N} on
//     stdout, and receives a consumer's stream from the worker. A seeded
//     --loss share of what arrives is dropped (never the first packet, nor
//     the first copy of the stream's last packet); gaps are tracked with the
//     NackGenerator and requested with RTCP NACKs sent from the same socket
//     to the worker (--remote-port, the consumer transport's own port). RTX
//     is decapsulated. Receiver reports with LSR/DLSR give the worker an RTT.
//     Ends once every packet is in (plus a short grace), after --idle-ms
//     without media, or at --max-runtime-ms.
//
// Both print one JSON summary line on stdout at the end (also written to
// --summary=PATH). Every payload carries its packet index, the total and a
// filler derived from the index, so the receiver checks that each packet,
// repaired ones included, is exactly the one that was sent. Loss decisions
// hash (seed, packet index, copy number): the same seed drops the same
// originals whatever the timing.
//
// Exit codes: 0 done, 1 socket error, 2 bad options, 3 receiver got nothing.

#include "protocol/codecs/Vp8.hpp"
#include "protocol/recovery/NackGenerator.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/rtp/SeqNum.hpp"
#include "protocol/rtp/Time.hpp"
#include "utils/Bytes.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using nlohmann::json;
using sfu::bytes::get32;
using sfu::bytes::set32;

// ---- time, randomness, options -------------------------------------------

uint64_t nowUs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

uint64_t nowMs() {
    return nowUs() / 1000;
}

volatile std::sig_atomic_t stopRequested = 0;

void onSignal(int) {
    stopRequested = 1;
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// Salts keep the two legs' drop patterns independent for one seed.
constexpr uint64_t kSenderSalt = 0x53454E44ULL;   // "SEND"
constexpr uint64_t kReceiverSalt = 0x52454356ULL; // "RECV"

// Whether copy `attempt` (0 = the original) of packet `index` is lost.
bool lossHit(uint64_t seed, uint64_t salt, uint64_t index, uint64_t attempt, double rate) {
    if (rate <= 0) {
        return false;
    }
    const uint64_t h = splitmix64(splitmix64(splitmix64(seed ^ salt) ^ index) ^ (attempt << 40));
    return static_cast<double>(h >> 11) / static_cast<double>(uint64_t{1} << 53) < rate;
}

class Options {
public:
    Options(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string_view whole = argv[i];
            if (whole.size() < 3 || whole.substr(0, 2) != "--") {
                bad_ = "unexpected argument '" + std::string(whole) + "'";
                return;
            }
            const std::string_view arg = whole.substr(2);
            const auto eq = arg.find('=');
            if (eq == std::string_view::npos) {
                values_[std::string(arg)] = "1";
            } else {
                values_[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
            }
        }
    }

    const std::string& error() const { return bad_; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }

    std::string str(const std::string& key, const std::string& fallback) {
        used_[key] = true;
        const auto it = values_.find(key);
        return it == values_.end() ? fallback : it->second;
    }

    uint64_t num(const std::string& key, uint64_t fallback, uint64_t max = UINT64_MAX) {
        used_[key] = true;
        const auto it = values_.find(key);
        if (it == values_.end()) {
            return fallback;
        }
        char* end = nullptr;
        errno = 0;
        const unsigned long long v = std::strtoull(it->second.c_str(), &end, 0);
        if (errno != 0 || end == it->second.c_str() || *end != '\0' || v > max) {
            fail("invalid --" + key + "=" + it->second);
            return fallback;
        }
        return v;
    }

    double real(const std::string& key, double fallback) {
        used_[key] = true;
        const auto it = values_.find(key);
        if (it == values_.end()) {
            return fallback;
        }
        char* end = nullptr;
        const double v = std::strtod(it->second.c_str(), &end);
        if (end == it->second.c_str() || *end != '\0' || v < 0 || v > 1) {
            fail("invalid --" + key + "=" + it->second + " (0..1)");
            return fallback;
        }
        return v;
    }

    bool flag(const std::string& key) {
        used_[key] = true;
        const auto it = values_.find(key);
        return it != values_.end() && it->second != "0" && it->second != "false";
    }

    // Every option given must have been read by the mode.
    bool finish() {
        for (const auto& [key, value] : values_) {
            if (!used_.count(key) && bad_.empty()) {
                bad_ = "unknown option --" + key;
            }
        }
        return bad_.empty();
    }

private:
    void fail(const std::string& why) {
        if (bad_.empty()) {
            bad_ = why;
        }
    }

    std::map<std::string, std::string> values_;
    std::map<std::string, bool> used_;
    std::string bad_;
};

// ---- UDP -----------------------------------------------------------------

class Udp {
public:
    ~Udp() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    bool open(const std::string& localIp, uint16_t localPort, const std::string& remoteIp,
              uint16_t remotePort) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fd_ < 0) {
            return false;
        }
        // Bursts of retransmissions and a busy machine: room to queue.
        const int size = 4 * 1024 * 1024;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_port = htons(localPort);
        if (::inet_pton(AF_INET, localIp.c_str(), &local.sin_addr) != 1 ||
            ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
            return false;
        }
        socklen_t len = sizeof(local);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
        localPort_ = ntohs(local.sin_port);
        remote_.sin_family = AF_INET;
        remote_.sin_port = htons(remotePort);
        return ::inet_pton(AF_INET, remoteIp.c_str(), &remote_.sin_addr) == 1;
    }

    uint16_t localPort() const { return localPort_; }

    bool send(const uint8_t* data, size_t len) {
        const ssize_t n = ::sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&remote_),
                                   sizeof(remote_));
        if (n != static_cast<ssize_t>(len)) {
            ++sendErrors;
            return false;
        }
        return true;
    }

    // Waits up to timeoutMs for something to read.
    void wait(int timeoutMs) {
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, timeoutMs < 0 ? 0 : timeoutMs);
    }

    // One datagram, or -1 when none is queued. Datagrams from elsewhere than
    // the remote are counted and skipped.
    ssize_t recv(uint8_t* buf, size_t cap) {
        for (;;) {
            sockaddr_in from{};
            socklen_t len = sizeof(from);
            const ssize_t n =
                ::recvfrom(fd_, buf, cap, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) {
                return -1;
            }
            if (from.sin_addr.s_addr != remote_.sin_addr.s_addr ||
                from.sin_port != remote_.sin_port) {
                ++foreignDatagrams;
                continue;
            }
            return n;
        }
    }

    uint64_t sendErrors = 0;
    uint64_t foreignDatagrams = 0;

private:
    int fd_ = -1;
    uint16_t localPort_ = 0;
    sockaddr_in remote_{};
};

// ---- payloads ------------------------------------------------------------

constexpr uint32_t kMagic = 0x4C4F5353; // "LOSS"
// Magic, packet index, total packets: the payload's last 12 bytes.
constexpr size_t kTagSize = 12;
constexpr size_t kDescriptorSize = 4;
constexpr size_t kKeyFrameHeaderSize = 10;
constexpr size_t kInterFrameHeaderSize = 3;
constexpr size_t kBufferSize = 1600;

uint8_t fillerByte(uint32_t index, size_t offset) {
    return static_cast<uint8_t>(index * 7 + offset * 13 + 5);
}

// A VP8 payload: RFC 7741 descriptor with a 15-bit picture id, on the first
// packet of a frame a VP8 frame header (a key frame's with start code and a
// 320x240 size), then filler and the tag.
std::vector<uint8_t> makePayload(uint32_t index, uint32_t total, uint16_t pictureId,
                                 bool startOfFrame, bool keyFrame, size_t size) {
    std::vector<uint8_t> p;
    p.reserve(size);
    p.push_back(static_cast<uint8_t>(0x80 | (startOfFrame ? 0x10 : 0x00))); // X, S, PID 0
    p.push_back(0x80);                                                      // I
    p.push_back(static_cast<uint8_t>(0x80 | ((pictureId >> 8) & 0x7F)));    // M, picture id
    p.push_back(static_cast<uint8_t>(pictureId));
    if (startOfFrame) {
        // Frame tag: P (0 = key frame), version 0, show_frame, partition size.
        const uint32_t tag = (keyFrame ? 0U : 1U) | 0x10U | (100U << 5);
        p.push_back(static_cast<uint8_t>(tag));
        p.push_back(static_cast<uint8_t>(tag >> 8));
        p.push_back(static_cast<uint8_t>(tag >> 16));
        if (keyFrame) {
            for (const uint8_t b : {0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00}) {
                p.push_back(b); // start code, width 320, height 240
            }
        }
    }
    const size_t fillTo = std::max(size, p.size() + kTagSize + 1) - kTagSize;
    while (p.size() < fillTo) {
        p.push_back(fillerByte(index, p.size()));
    }
    uint8_t tag[kTagSize];
    set32(tag, kMagic);
    set32(tag + 4, index);
    set32(tag + 8, total);
    p.insert(p.end(), tag, tag + kTagSize);
    return p;
}

struct PayloadCheck {
    uint32_t index = 0;
    uint32_t total = 0;
    bool keyFrame = false;
};

// Reads the tag and checks every filler byte: nullopt unless the payload is
// exactly one this program sent.
std::optional<PayloadCheck> checkPayload(const uint8_t* payload, size_t len) {
    if (len < kDescriptorSize + kTagSize + 1) {
        return std::nullopt;
    }
    const uint8_t* tag = payload + len - kTagSize;
    if (get32(tag) != kMagic) {
        return std::nullopt;
    }
    PayloadCheck out;
    out.index = get32(tag + 4);
    out.total = get32(tag + 8);
    if (out.total == 0 || out.index >= out.total) {
        return std::nullopt;
    }
    const auto desc = sfu::codecs::vp8::PayloadDescriptor::parse(payload, len);
    if (!desc || !desc->hasPictureId) {
        return std::nullopt;
    }
    size_t start = desc->headerLength;
    if (desc->isStartOfFrame) {
        out.keyFrame = desc->isKeyFrame;
        start += desc->isKeyFrame ? kKeyFrameHeaderSize : kInterFrameHeaderSize;
    }
    for (size_t i = start; i < len - kTagSize; ++i) {
        if (payload[i] != fillerByte(out.index, i)) {
            return std::nullopt;
        }
    }
    return out;
}

void emit(const json& summary, const std::string& path) {
    const std::string text = summary.dump();
    if (!path.empty()) {
        const std::string tmp = path + ".tmp";
        {
            std::ofstream f(tmp);
            f << text << "\n";
        }
        std::rename(tmp.c_str(), path.c_str());
    }
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
}

int usage(const std::string& why) {
    std::fprintf(stderr,
                 "sfu-loss_peer: %s\n"
                 "usage: sfu-loss_peer --mode=send|recv --remote-port=N [--remote-ip=127.0.0.1]\n"
                 "  send: --packets=3000 --rate=500 --loss=0.05 --rtx-loss=LOSS --seed=1\n"
                 "        --ssrc --pt=101 --rtx-ssrc --rtx-pt=102 --plain --first-seq\n"
                 "        --frame-packets=5 --keyframe-every=100 --payload-size=800\n"
                 "        --linger-ms=1500 --max-runtime-ms=60000 --summary=PATH\n"
                 "        --drop-indices=I,J,.. --rtx-drop-first=N\n"
                 "  recv: --local-port=0 --ssrc --pt=96 --rtx-ssrc --rtx-pt=97 --loss=0.05\n"
                 "        --seed=1 --nack-retries=10 --nack-max-age-ms=1000 --nack-rtt-ms=20\n"
                 "        --keyframe-gives-up --idle-ms=2000 --first-packet-timeout-ms=10000\n"
                 "        --max-runtime-ms=60000 --sender-summary=PATH\n"
                 "        --sender-summary-wait-ms=5000 --rtcp-ssrc=N --summary=PATH\n",
                 why.c_str());
    return 2;
}

// ---- sender --------------------------------------------------------------

struct SentIndex {
    bool dropped = false;         // the original was dropped before sending
    uint32_t nacks = 0;           // times a NACK asked for it
    uint32_t resent = 0;          // retransmissions attempted
    uint32_t resentDelivered = 0; // ... not dropped by the simulated loss
    uint64_t lastNackUs = 0;      // when the last NACK for it came
};

// A key frame the sender started: its first packet and when it went out.
struct KeyFrameSent {
    uint32_t index = 0;
    uint64_t sentUs = 0;
};

int runSender(Options& o) {
    const std::string remoteIp = o.str("remote-ip", "127.0.0.1");
    const auto remotePort = static_cast<uint16_t>(o.num("remote-port", 0, 65535));
    const auto localPort = static_cast<uint16_t>(o.num("local-port", 0, 65535));
    const auto packets = static_cast<uint32_t>(o.num("packets", 3000, 60000));
    const uint64_t rate = o.num("rate", 500, 100000);
    const double loss = o.real("loss", 0.05);
    const double rtxLoss = o.real("rtx-loss", loss);
    // The first N retransmissions of every packet are lost: repairs that
    // come late, N retries after the first NACK.
    const auto rtxDropFirst = static_cast<uint32_t>(o.num("rtx-drop-first", 0, 100));
    // Originals dropped on purpose, on top of the seeded loss.
    std::vector<uint32_t> forcedDrops;
    {
        const std::string list = o.str("drop-indices", "");
        size_t pos = 0;
        while (pos < list.size()) {
            const size_t comma = std::min(list.find(',', pos), list.size());
            const std::string item = list.substr(pos, comma - pos);
            char* end = nullptr;
            const unsigned long v = std::strtoul(item.c_str(), &end, 10);
            if (item.empty() || end == item.c_str() || *end != '\0') {
                return usage("invalid --drop-indices=" + list);
            }
            forcedDrops.push_back(static_cast<uint32_t>(v));
            pos = comma + 1;
        }
    }
    const uint64_t seed = o.num("seed", 1);
    const auto ssrc = static_cast<uint32_t>(o.num("ssrc", 11111111, UINT32_MAX));
    const auto pt = static_cast<uint8_t>(o.num("pt", 101, 127));
    const auto rtxSsrc = static_cast<uint32_t>(o.num("rtx-ssrc", 11111112, UINT32_MAX));
    const auto rtxPt = static_cast<uint8_t>(o.num("rtx-pt", 102, 127));
    const bool plain = o.flag("plain");
    const auto firstSeq =
        static_cast<uint16_t>(o.num("first-seq", splitmix64(seed) & 0xFFFF, 65535));
    const auto framePackets = static_cast<uint32_t>(o.num("frame-packets", 5, 1000));
    const auto keyFrameEvery = static_cast<uint32_t>(o.num("keyframe-every", 100, 1000000));
    const size_t payloadSize = o.num("payload-size", 800, 1400);
    const uint64_t lingerMs = o.num("linger-ms", 1500, 600000);
    const uint64_t maxRuntimeMs = o.num("max-runtime-ms", 60000, 3600000);
    const std::string summaryPath = o.str("summary", "");
    o.str("mode", "");
    if (!o.finish()) {
        return usage(o.error());
    }
    if (remotePort == 0 || packets < 2 || rate == 0 || framePackets == 0 || keyFrameEvery == 0) {
        return usage("--remote-port, --packets >= 2, --rate, --frame-packets and "
                     "--keyframe-every are required to be non-zero");
    }

    Udp udp;
    if (!udp.open("127.0.0.1", localPort, remoteIp, remotePort)) {
        std::fprintf(stderr, "sfu-loss_peer: cannot open the UDP socket: %s\n",
                     std::strerror(errno));
        return 1;
    }

    const uint32_t clockRate = 90000;
    const double fps = static_cast<double>(rate) / framePackets;
    const auto tsStep = static_cast<uint32_t>(clockRate / (fps > 0 ? fps : 1));
    const auto firstTs = static_cast<uint32_t>(splitmix64(seed + 1));

    std::vector<std::vector<uint8_t>> sent(packets);
    std::vector<SentIndex> perIndex(packets);
    uint16_t rtxSeq = static_cast<uint16_t>(splitmix64(seed + 2));
    uint64_t octets = 0;
    uint64_t packetsOut = 0;
    uint32_t lastTs = firstTs;
    uint64_t lastTsUs = 0;

    // Counters.
    uint64_t droppedOriginals = 0;
    uint64_t nackPackets = 0;
    uint64_t nackedSeqs = 0;
    uint64_t nackUnknown = 0;
    uint64_t nackedDelivered = 0;
    uint64_t retransmitted = 0;
    uint64_t retransmissionsDropped = 0;
    uint64_t pliReceived = 0;
    uint64_t firReceived = 0;
    uint64_t rrReceived = 0;
    uint64_t rtcpInvalid = 0;
    uint64_t srSent = 0;
    std::vector<KeyFrameSent> keyFrames;
    bool keyFrameRequested = false;
    uint32_t frame = 0;
    bool frameIsKey = false;

    auto sendSr = [&](uint64_t tUs) {
        uint8_t buf[64];
        sfu::rtcp::SenderInfo info;
        info.ntp = sfu::rtp::ntpNow().toU64();
        info.rtpTimestamp = lastTs + static_cast<uint32_t>((tUs - lastTsUs) * clockRate / 1000000);
        info.packetCount = static_cast<uint32_t>(packetsOut);
        info.octetCount = static_cast<uint32_t>(octets);
        const size_t n = sfu::rtcp::writeSenderReport(ssrc, info, {}, buf, sizeof(buf));
        if (n > 0 && udp.send(buf, n)) {
            ++srSent;
        }
    };

    auto resend = [&](uint32_t index) {
        SentIndex& s = perIndex[index];
        ++s.resent;
        if (s.resent <= rtxDropFirst || lossHit(seed, kSenderSalt, index, s.resent, rtxLoss)) {
            ++retransmissionsDropped;
            return;
        }
        uint8_t buf[kBufferSize];
        const std::vector<uint8_t>& original = sent[index];
        std::memcpy(buf, original.data(), original.size());
        auto packet = sfu::rtp::RtpPacket::parse(buf, original.size(), sizeof(buf));
        if (!packet) {
            return;
        }
        if (!plain && !packet->rtxEncode(rtxPt, rtxSsrc, rtxSeq++)) {
            return;
        }
        if (udp.send(packet->data(), packet->size())) {
            ++retransmitted;
            ++s.resentDelivered;
        }
    };

    auto handleRtcp = [&](const uint8_t* data, size_t len) {
        const sfu::rtcp::CompoundView compound(data, len);
        if (!compound.valid()) {
            ++rtcpInvalid;
            return;
        }
        for (const sfu::rtcp::PacketView pkt : compound) {
            if (const auto nack = sfu::rtcp::NackView::parse(pkt)) {
                if (nack->mediaSsrc() != ssrc) {
                    continue;
                }
                ++nackPackets;
                for (const sfu::rtcp::NackItem item : nack->items()) {
                    sfu::rtcp::forEachNacked(item, [&](uint16_t seq) {
                        ++nackedSeqs;
                        const auto index = static_cast<uint16_t>(seq - firstSeq);
                        if (index >= packets || sent[index].empty()) {
                            ++nackUnknown;
                            return;
                        }
                        ++perIndex[index].nacks;
                        perIndex[index].lastNackUs = nowUs();
                        if (!perIndex[index].dropped) {
                            ++nackedDelivered;
                        }
                        resend(index);
                    });
                }
            } else if (const auto pli = sfu::rtcp::PliView::parse(pkt)) {
                if (pli->mediaSsrc() == ssrc) {
                    ++pliReceived;
                    keyFrameRequested = true;
                }
            } else if (sfu::rtcp::FirView::parse(pkt)) {
                ++firReceived;
                keyFrameRequested = true;
            } else if (pkt.is(sfu::rtcp::PacketType::RR)) {
                ++rrReceived;
            }
        }
    };

    const uint64_t startUs = nowUs();
    const uint64_t intervalUs = 1000000 / rate;
    uint64_t nextSrUs = startUs + 500000;
    uint32_t next = 0;
    uint64_t lingerUntilUs = 0;
    std::string end = "done";

    for (;;) {
        const uint64_t t = nowUs();
        if (stopRequested) {
            end = "signal";
            break;
        }
        if ((t - startUs) / 1000 >= maxRuntimeMs) {
            end = "max-runtime";
            break;
        }
        if (next < packets && t >= startUs + next * intervalUs) {
            const uint32_t index = next++;
            const uint32_t inFrame = index % framePackets;
            if (inFrame == 0) {
                frame = index / framePackets;
                frameIsKey = frame % keyFrameEvery == 0 || keyFrameRequested;
                keyFrameRequested = false;
                if (frameIsKey) {
                    keyFrames.push_back({index, t});
                }
                lastTs = firstTs + frame * tsStep;
                lastTsUs = t;
            }
            const bool lastInFrame = inFrame + 1 == framePackets || index + 1 == packets;
            const auto payload = makePayload(index, packets, static_cast<uint16_t>(frame & 0x7FFF),
                                             inFrame == 0, frameIsKey && inFrame == 0, payloadSize);
            sfu::rtp::RtpPacketSpec spec;
            spec.marker = lastInFrame;
            spec.payloadType = pt;
            spec.sequenceNumber = static_cast<uint16_t>(firstSeq + index);
            spec.timestamp = lastTs;
            spec.ssrc = ssrc;
            spec.payload = payload;
            uint8_t buf[kBufferSize];
            const auto packet = sfu::rtp::RtpPacket::build(buf, sizeof(buf), spec);
            if (!packet) {
                std::fprintf(stderr, "sfu-loss_peer: cannot build packet %u\n", index);
                return 1;
            }
            sent[index].assign(packet->data(), packet->data() + packet->size());
            const bool keep = index == 0 || index + 1 == packets;
            const bool forced =
                std::find(forcedDrops.begin(), forcedDrops.end(), index) != forcedDrops.end();
            if (!keep && (forced || lossHit(seed, kSenderSalt, index, 0, loss))) {
                perIndex[index].dropped = true;
                ++droppedOriginals;
            } else if (udp.send(packet->data(), packet->size())) {
                ++packetsOut;
                octets += packet->payloadLength();
            }
            if (next == packets) {
                lingerUntilUs = nowUs() + lingerMs * 1000;
            }
            continue;
        }
        if (t >= nextSrUs && packetsOut > 0) {
            sendSr(t);
            nextSrUs = t + 1000000;
        }
        if (next == packets && t >= lingerUntilUs) {
            break;
        }
        uint8_t buf[kBufferSize];
        bool any = false;
        for (ssize_t n; (n = udp.recv(buf, sizeof(buf))) >= 0;) {
            any = true;
            if (sfu::rtcp::isRtcp(buf, static_cast<size_t>(n))) {
                handleRtcp(buf, static_cast<size_t>(n));
            }
        }
        if (any) {
            continue;
        }
        uint64_t wakeUs = std::min(nextSrUs, t + 50000);
        if (next < packets) {
            wakeUs = std::min(wakeUs, startUs + next * intervalUs);
        } else {
            wakeUs = std::min(wakeUs, lingerUntilUs);
        }
        udp.wait(wakeUs > t ? static_cast<int>((wakeUs - t + 999) / 1000) : 0);
    }

    json dropped = json::array();
    uint64_t nackedUnique = 0;
    uint64_t droppedNeverNacked = 0;
    for (uint32_t i = 0; i < packets; ++i) {
        const SentIndex& s = perIndex[i];
        nackedUnique += s.nacks > 0 ? 1 : 0;
        if (s.dropped) {
            droppedNeverNacked += s.nacks == 0 ? 1 : 0;
            json entry{{"index", i},
                       {"seq", static_cast<uint16_t>(firstSeq + i)},
                       {"nacks", s.nacks},
                       {"resent", s.resent},
                       {"resentDelivered", s.resentDelivered}};
            // The key frame that followed: a receiver may stop asking for
            // anything older once it has one.
            const auto next = std::find_if(keyFrames.begin(), keyFrames.end(),
                                           [&](const KeyFrameSent& k) { return k.index > i; });
            if (next != keyFrames.end()) {
                entry["nextKeyFrameIndex"] = next->index;
                if (s.lastNackUs != 0) {
                    entry["nextKeyFrameAfterLastNackMs"] =
                        (static_cast<int64_t>(next->sentUs) - static_cast<int64_t>(s.lastNackUs)) /
                        1000;
                }
            }
            dropped.push_back(std::move(entry));
        }
    }
    const json summary{
        {"mode", "send"},
        {"end", end},
        {"durationMs", (nowUs() - startUs) / 1000},
        {"packets", packets},
        {"sentPackets", next},
        {"ssrc", ssrc},
        {"payloadType", pt},
        {"retransmission", plain ? "plain" : "rtx"},
        {"rtxSsrc", rtxSsrc},
        {"rtxPayloadType", rtxPt},
        {"firstSeq", firstSeq},
        {"loss", loss},
        {"rtxLoss", rtxLoss},
        {"rtxDropFirst", rtxDropFirst},
        {"seed", seed},
        {"keyFrames", keyFrames.size()},
        {"droppedOriginals", droppedOriginals},
        {"droppedNeverNacked", droppedNeverNacked},
        {"nackPackets", nackPackets},
        {"nackedSeqs", nackedSeqs},
        {"nackedUnique", nackedUnique},
        {"nackedDelivered", nackedDelivered},
        {"nackUnknown", nackUnknown},
        {"retransmitted", retransmitted},
        {"retransmissionsDropped", retransmissionsDropped},
        {"pliReceived", pliReceived},
        {"firReceived", firReceived},
        {"rrReceived", rrReceived},
        {"rtcpInvalid", rtcpInvalid},
        {"srSent", srSent},
        {"sendErrors", udp.sendErrors},
        {"foreignDatagrams", udp.foreignDatagrams},
        {"dropped", std::move(dropped)},
    };
    emit(summary, summaryPath);
    return 0;
}

// ---- receiver ------------------------------------------------------------

struct RecvIndex {
    uint32_t arrivals = 0;   // copies that reached this peer (before its loss)
    uint32_t lostCopies = 0; // ... dropped by the simulated loss
    uint32_t requests = 0;   // times it was NACKed
    uint32_t duplicates = 0; // copies that got through after the first one
    bool received = false;   // a copy got through
    bool repaired = false;   // ... a retransmission or one that came after a NACK
    bool viaRtx = false;
    uint64_t firstRequestMs = 0;
    uint64_t lastRequestMs = 0;
};

// The sender's summary (when it was given) for the reasons of missing packets.
std::map<uint32_t, json> readSenderDrops(const std::string& path, uint64_t waitMs) {
    std::map<uint32_t, json> out;
    if (path.empty()) {
        return out;
    }
    const uint64_t until = nowMs() + waitMs;
    for (;;) {
        std::ifstream f(path);
        if (f) {
            const json summary = json::parse(f, nullptr, false);
            if (!summary.is_discarded() && summary.contains("dropped")) {
                for (const auto& d : summary["dropped"]) {
                    out[d.value("index", 0U)] = d;
                }
                return out;
            }
        }
        if (nowMs() >= until) {
            return out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

int runReceiver(Options& o) {
    const std::string remoteIp = o.str("remote-ip", "127.0.0.1");
    const auto remotePort = static_cast<uint16_t>(o.num("remote-port", 0, 65535));
    const auto localPort = static_cast<uint16_t>(o.num("local-port", 0, 65535));
    const auto ssrc = static_cast<uint32_t>(o.num("ssrc", 22222222, UINT32_MAX));
    const auto pt = static_cast<uint8_t>(o.num("pt", 96, 127));
    const bool haveRtx = o.has("rtx-ssrc");
    const auto rtxSsrc = static_cast<uint32_t>(o.num("rtx-ssrc", 0, UINT32_MAX));
    const auto rtxPt = static_cast<uint8_t>(o.num("rtx-pt", 97, 127));
    const double loss = o.real("loss", 0.05);
    const uint64_t seed = o.num("seed", 1);
    sfu::recovery::NackConfig config;
    config.maxRetries = static_cast<uint8_t>(o.num("nack-retries", 10, 255));
    config.maxAgeMs = static_cast<uint32_t>(o.num("nack-max-age-ms", 1000, 60000));
    const auto rttMs = static_cast<uint32_t>(o.num("nack-rtt-ms", 20, 10000));
    const bool keyFrameGivesUp = o.flag("keyframe-gives-up");
    const uint64_t idleMs = o.num("idle-ms", 2000, 600000);
    const uint64_t firstTimeoutMs = o.num("first-packet-timeout-ms", 10000, 600000);
    const uint64_t maxRuntimeMs = o.num("max-runtime-ms", 60000, 3600000);
    const std::string senderSummary = o.str("sender-summary", "");
    const uint64_t senderSummaryWaitMs = o.num("sender-summary-wait-ms", 5000, 600000);
    const std::string summaryPath = o.str("summary", "");
    const auto rtcpSsrc = static_cast<uint32_t>(o.num("rtcp-ssrc", 0x52435652, UINT32_MAX));
    o.str("mode", "");
    if (!o.finish()) {
        return usage(o.error());
    }
    if (remotePort == 0) {
        return usage("--remote-port is required");
    }

    Udp udp;
    if (!udp.open("127.0.0.1", localPort, remoteIp, remotePort)) {
        std::fprintf(stderr, "sfu-loss_peer: cannot open the UDP socket: %s\n",
                     std::strerror(errno));
        return 1;
    }
    std::printf("%s\n", json{{"event", "listening"}, {"port", udp.localPort()}}.dump().c_str());
    std::fflush(stdout);

    sfu::recovery::NackGenerator nack(config);
    std::vector<RecvIndex> perIndex;
    uint32_t total = 0;
    bool started = false;
    uint16_t baseSeq = 0; // the sequence number of index 0 on the consumer's stream
    uint32_t firstIndex = 0;
    uint32_t highestIndex = 0;
    uint64_t receivedUnique = 0;

    uint64_t arrivals = 0;
    uint64_t rtxArrivals = 0;
    uint64_t lostOriginals = 0;
    uint64_t lostRetransmissions = 0;
    uint64_t duplicates = 0;
    uint64_t corrupt = 0;
    uint64_t foreign = 0;
    uint64_t badRtx = 0;
    uint64_t seqMismatch = 0;
    uint64_t repairedViaRtx = 0;
    uint64_t repairedPlain = 0;
    uint64_t nackPacketsSent = 0;
    uint64_t nackedSeqs = 0;
    uint64_t srReceived = 0;
    uint64_t rrSent = 0;
    uint64_t rtcpOther = 0;
    uint32_t lastSrCompact = 0;
    uint64_t lastSrMs = 0;
    // Receiver report interval state.
    uint64_t expectedPrior = 0;
    uint64_t receivedPrior = 0;

    auto sendNacks = [&](uint64_t now) {
        uint16_t seqs[1024];
        const size_t count = nack.collect(now, rttMs, seqs);
        size_t done = 0;
        while (done < count) {
            uint8_t buf[1200];
            const auto w = sfu::recovery::writeNackPacket(
                rtcpSsrc, ssrc, std::span<const uint16_t>(seqs + done, count - done), buf,
                sizeof(buf));
            if (w.bytes == 0 || w.seqs == 0) {
                break;
            }
            for (size_t i = done; i < done + w.seqs; ++i) {
                const auto index = static_cast<uint16_t>(seqs[i] - baseSeq);
                if (index < perIndex.size()) {
                    RecvIndex& r = perIndex[index];
                    if (r.requests++ == 0) {
                        r.firstRequestMs = now;
                    }
                    r.lastRequestMs = now;
                }
            }
            if (udp.send(buf, w.bytes)) {
                ++nackPacketsSent;
                nackedSeqs += w.seqs;
            }
            done += w.seqs;
        }
    };

    auto sendRr = [&](uint64_t now) {
        if (!started) {
            return;
        }
        const uint64_t expected = highestIndex - firstIndex + 1;
        const uint64_t expectedInterval = expected - expectedPrior;
        const uint64_t receivedInterval = receivedUnique - receivedPrior;
        expectedPrior = expected;
        receivedPrior = receivedUnique;
        sfu::rtcp::ReportBlock block;
        block.ssrc = ssrc;
        if (expectedInterval > receivedInterval && expectedInterval > 0) {
            block.fractionLost = static_cast<uint8_t>(((expectedInterval - receivedInterval) << 8) /
                                                      expectedInterval);
        }
        block.totalLost = static_cast<int32_t>(expected - std::min(expected, receivedUnique));
        block.highestSeq = static_cast<uint32_t>(baseSeq) + highestIndex;
        block.lastSr = lastSrCompact;
        block.delaySinceLastSr = lastSrMs != 0 ? sfu::rtp::compactNtpFromMs(now - lastSrMs) : 0;
        uint8_t buf[128];
        const size_t n =
            sfu::rtcp::writeReceiverReport(rtcpSsrc, std::span(&block, 1), buf, sizeof(buf));
        if (n > 0 && udp.send(buf, n)) {
            ++rrSent;
        }
    };

    auto onRtcp = [&](const uint8_t* data, size_t len, uint64_t now) {
        const sfu::rtcp::CompoundView compound(data, len);
        if (!compound.valid()) {
            ++rtcpOther;
            return;
        }
        for (const sfu::rtcp::PacketView pkt : compound) {
            if (const auto sr = sfu::rtcp::SenderReportView::parse(pkt)) {
                if (sr->ssrc() == ssrc) {
                    ++srReceived;
                    lastSrCompact = sr->senderInfo().compactNtp();
                    lastSrMs = now;
                }
            } else {
                ++rtcpOther;
            }
        }
    };

    auto onRtp = [&](uint8_t* data, size_t len, uint64_t now) {
        auto packet = sfu::rtp::RtpPacket::parse(data, len, kBufferSize);
        if (!packet) {
            ++corrupt;
            return;
        }
        bool rtx = false;
        if (haveRtx && packet->ssrc() == rtxSsrc && packet->payloadType() == rtxPt) {
            rtx = true;
            ++rtxArrivals;
            if (!packet->rtxDecode(pt, ssrc)) {
                ++badRtx;
                return;
            }
        } else if (packet->ssrc() != ssrc || packet->payloadType() != pt) {
            ++foreign;
            return;
        }
        const auto check = checkPayload(packet->payload(), packet->payloadLength());
        if (!check) {
            ++corrupt;
            return;
        }
        if (total == 0) {
            total = check->total;
            perIndex.resize(total);
        }
        if (check->total != total) {
            ++corrupt;
            return;
        }
        ++arrivals;
        const uint32_t index = check->index;
        RecvIndex& r = perIndex[index];
        ++r.arrivals;
        const bool first = !started;
        if (first) {
            baseSeq = static_cast<uint16_t>(packet->sequenceNumber() - index);
        } else if (packet->sequenceNumber() != static_cast<uint16_t>(baseSeq + index)) {
            // The worker numbered this packet differently from the first one.
            ++seqMismatch;
        }
        const bool retransmission = rtx || r.requests > 0;
        const bool keep = first || (index + 1 == total && r.arrivals == 1);
        if (!keep && lossHit(seed, kReceiverSalt, index, r.arrivals, loss)) {
            ++r.lostCopies;
            ++(retransmission ? lostRetransmissions : lostOriginals);
            return;
        }
        if (first) {
            started = true;
            firstIndex = index;
            highestIndex = index;
        }
        const auto result =
            nack.onPacket(packet->sequenceNumber(), keyFrameGivesUp && check->keyFrame, rtx, now);
        if (index > highestIndex) {
            highestIndex = index;
        }
        if (r.received) {
            ++duplicates;
            ++r.duplicates;
        } else {
            r.received = true;
            ++receivedUnique;
            if (retransmission) {
                r.repaired = true;
                r.viaRtx = rtx;
                ++(rtx ? repairedViaRtx : repairedPlain);
            }
        }
        if (result.newlyMissing > 0) {
            sendNacks(now);
        }
    };

    const uint64_t startMs = nowMs();
    uint64_t lastMediaMs = 0;
    uint64_t nextNackMs = startMs;
    uint64_t nextRrMs = startMs + 500;
    uint64_t completeAtMs = 0;
    std::string end;

    while (end.empty()) {
        const uint64_t now = nowMs();
        if (stopRequested) {
            end = "signal";
        } else if (now - startMs >= maxRuntimeMs) {
            end = "max-runtime";
        } else if (!started && now - startMs >= firstTimeoutMs) {
            end = "no-media";
        } else if (started && now - lastMediaMs >= idleMs) {
            end = "idle";
        } else if (completeAtMs != 0 && now >= completeAtMs) {
            end = "complete";
        }
        if (!end.empty()) {
            break;
        }
        uint8_t buf[kBufferSize];
        bool any = false;
        for (ssize_t n; (n = udp.recv(buf, sizeof(buf))) >= 0;) {
            any = true;
            const uint64_t t = nowMs();
            if (sfu::rtcp::isRtcp(buf, static_cast<size_t>(n))) {
                onRtcp(buf, static_cast<size_t>(n), t);
            } else {
                lastMediaMs = t;
                onRtp(buf, static_cast<size_t>(n), t);
            }
        }
        if (started && completeAtMs == 0 && receivedUnique >= total - firstIndex) {
            // Everything is in: a short grace to see duplicates, then stop.
            completeAtMs = nowMs() + 300;
        }
        const uint64_t t = nowMs();
        if (started && t >= nextNackMs) {
            if (nack.pendingCount() > 0) {
                sendNacks(t);
            }
            nextNackMs = t + 5;
        }
        if (t >= nextRrMs) {
            sendRr(t);
            nextRrMs = t + 500;
        }
        if (!any) {
            udp.wait(5);
        }
    }

    // Why each packet that never got through is missing.
    const auto senderDrops = readSenderDrops(senderSummary, senderSummaryWaitMs);
    const uint64_t now = nowMs();
    json missing = json::array();
    std::map<std::string, uint64_t> reasons;
    for (uint32_t i = 0; i < total; ++i) {
        const RecvIndex& r = perIndex[i];
        if (r.received) {
            continue;
        }
        std::string reason;
        std::string nackState;
        const auto seq = static_cast<uint16_t>(baseSeq + i);
        if (!started) {
            reason = "no-media";
        } else if (i < firstIndex) {
            reason = "before-first-forwarded";
        } else if (i > highestIndex) {
            reason = "after-last-received";
        } else {
            if (nack.isPending(seq)) {
                nackState = "still-pending-at-exit";
            } else if (r.requests == 0) {
                nackState = "never-requested";
            } else if (r.requests >= config.maxRetries) {
                nackState = "given-up-retries";
            } else if (now - r.firstRequestMs > config.maxAgeMs) {
                nackState = "given-up-age";
            } else {
                nackState = "given-up-other";
            }
            reason = r.arrivals > 0 ? "leg2-every-copy-lost" : "never-sent-by-worker";
        }
        ++reasons[reason];
        json entry{{"index", i},
                   {"seq", seq},
                   {"reason", reason},
                   {"nack", nackState},
                   {"requests", r.requests},
                   {"arrivals", r.arrivals},
                   {"lostCopies", r.lostCopies}};
        if (const auto it = senderDrops.find(i); it != senderDrops.end()) {
            entry["leg1"] = it->second;
            if (reason == "never-sent-by-worker") {
                const json& leg1 = it->second;
                std::string text;
                if (leg1.value("nacks", 0U) == 0) {
                    text = "dropped on leg 1 and never NACKed by the worker";
                } else if (leg1.value("resentDelivered", 0U) == 0) {
                    text = "dropped on leg 1; the worker NACKed it " +
                           std::to_string(leg1.value("nacks", 0U)) +
                           " time(s) and every retransmission was lost too";
                    if (leg1.contains("nextKeyFrameAfterLastNackMs")) {
                        text += "; the key frame at packet " +
                                std::to_string(leg1.value("nextKeyFrameIndex", 0U)) + " went out " +
                                std::to_string(leg1.value("nextKeyFrameAfterLastNackMs", 0)) +
                                " ms after the last NACK and the worker asked no more "
                                "(consistent with its producer giving up on losses older "
                                "than a key frame)";
                    }
                } else {
                    text = "dropped on leg 1, retransmitted to the worker, yet never "
                           "forwarded to this consumer";
                }
                entry["explanation"] = text;
            }
        } else if (reason == "never-sent-by-worker" && !senderSummary.empty()) {
            entry["explanation"] = "delivered on leg 1 but never forwarded by the worker";
        }
        missing.push_back(std::move(entry));
    }

    // Duplicates come from retransmissions of packets that were already
    // in: most often a NACK that crossed, on the way to the worker, the
    // late first forward of a packet the worker itself repaired on leg 1.
    uint64_t duplicatesOfLeg1Drops = 0;
    for (uint32_t i = 0; i < total; ++i) {
        if (perIndex[i].duplicates > 0 && senderDrops.count(i) != 0) {
            duplicatesOfLeg1Drops += perIndex[i].duplicates;
        }
    }

    const auto& c = nack.counters();
    using sfu::recovery::GiveUpReason;
    const uint64_t expected = started ? total - firstIndex : total;
    const json summary{
        {"mode", "recv"},
        {"end", end},
        {"durationMs", now - startMs},
        {"ssrc", ssrc},
        {"rtx", haveRtx},
        {"total", total},
        {"firstIndex", firstIndex},
        {"expected", expected},
        {"received", receivedUnique},
        {"receivedOriginal", receivedUnique - repairedViaRtx - repairedPlain},
        {"repaired", repairedViaRtx + repairedPlain},
        {"repairedViaRtx", repairedViaRtx},
        {"repairedPlain", repairedPlain},
        {"missingCount", missing.size()},
        {"missingReasons", reasons},
        {"arrivals", arrivals},
        {"rtxArrivals", rtxArrivals},
        {"lostOriginals", lostOriginals},
        {"lostRetransmissions", lostRetransmissions},
        {"duplicates", duplicates},
        {"duplicatesOfLeg1Drops", duplicatesOfLeg1Drops},
        {"corrupt", corrupt},
        {"foreign", foreign},
        {"badRtx", badRtx},
        {"seqMismatch", seqMismatch},
        {"nackPacketsSent", nackPacketsSent},
        {"nackedSeqs", nackedSeqs},
        {"srReceived", srReceived},
        {"rrSent", rrSent},
        {"rtcpOther", rtcpOther},
        {"sendErrors", udp.sendErrors},
        {"foreignDatagrams", udp.foreignDatagrams},
        {"nackGenerator",
         {{"missing", c.missing},
          {"repaired", c.repaired},
          {"recovered", c.recovered},
          {"duplicates", c.duplicates},
          {"tooOld", c.tooOld},
          {"restarts", c.restarts},
          {"givenUp",
           {{"retries", c.givenUpFor(GiveUpReason::Retries)},
            {"age", c.givenUpFor(GiveUpReason::Age)},
            {"keyFrame", c.givenUpFor(GiveUpReason::KeyFrame)},
            {"overflow", c.givenUpFor(GiveUpReason::Overflow)}}},
          {"pendingAtExit", nack.pendingCount()}}},
        {"missing", std::move(missing)},
    };
    emit(summary, summaryPath);
    return started ? 0 : 3;
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    std::signal(SIGPIPE, SIG_IGN);
    Options options(argc, argv);
    if (!options.error().empty()) {
        return usage(options.error());
    }
    const std::string mode = options.str("mode", "");
    if (mode == "send") {
        return runSender(options);
    }
    if (mode == "recv") {
        return runReceiver(options);
    }
    return usage("--mode=send or --mode=recv is required");
}
