// Encrypted load peer for the media fan-out run (bench/load/fanout.py) when
// its legs are SRTP PlainTransports or WebRtcTransports, built on the
// project's own SRTP, ICE (STUN) and DTLS units. One process holds any
// number of legs, each one UDP socket, in one poll loop.
//
//   sfu-load_peer --mode=send [--rate=N] [--size=S] [--fps=F] [--burst-ms=B]
//     One leg. Once it is keyed, sends VP8-looking RTP at --rate packets/s
//     of --size bytes (before protection), spread over --fps frames per
//     second, a key frame every second and after a PLI or FIR from the
//     worker, exactly as fanout.py's plain sender does: each packet when it
//     is due, or with --burst-ms what is due every B ms.
//
//   sfu-load_peer --mode=recv --legs=N
//     N legs. Counts the RTP packets each one receives and follows its
//     sequence numbers (every gap is a lost packet). The first packet of
//     each leg and every 64th after it are decrypted, as a check that the
//     worker protected them with the key it announced; the first one must
//     start a VP8 key frame.
//
// Either mode decrypts every SRTCP packet the worker sends (the counters'
// "decrypted" holds those and the RTP samples). Either takes
// --srtp=PROFILE (e.g. AES_CM_128_HMAC_SHA1_80): the one DTLS-SRTP profile
// its WebRtcTransport legs offer, instead of every profile it knows.
//
// At start the peer binds its sockets on 127.0.0.1 and prints one JSON line:
// {"ports":[...],"fingerprint":"AB:..."}, the sha-256 fingerprint of the
// certificate it generated for DTLS. Then it reads commands on stdin, one
// JSON object per line, each answered with one JSON line on stdout:
//   {"cmd":"srtp","leg":I,"port":P,"suite":S,"sendKey":B64,"recvKey":B64}
//     Leg I talks to 127.0.0.1:P with SDES keys (a PlainTransport with
//     enableSrtp): sendKey protects what it sends, recvKey (the transport's
//     own srtpParameters) unprotects what it receives.
//   {"cmd":"webrtc","leg":I,"port":P,"ufrag":U,"pwd":W,"fingerprint":F}
//     Leg I connects to the WebRtcTransport whose UDP candidate is P, whose
//     ICE parameters are U and W and whose certificate's sha-256
//     fingerprint is F: STUN Binding requests as the
//     controlling agent with USE-CANDIDATE until one succeeds, then a DTLS
//     handshake as client; the SRTP keys come from the DTLS exporter.
//     Binding requests go on every 2 s for ICE consent.
//   {"cmd":"snap"}  the counters.
//   {"cmd":"stop"}  the counters, then exit.
// EOF on stdin also ends the process.
//
// Exit codes: 0 done, 1 socket or setup error, 2 bad options or command.

#include "PeerCommon.hpp"
#include "protocol/codecs/Vp8.hpp"
#include "protocol/dtls/Certificate.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "protocol/dtls/DtlsTransport.hpp"
#include "protocol/ice/HmacSha1.hpp"
#include "protocol/ice/StunBuilder.hpp"
#include "protocol/ice/StunMessage.hpp"
#include "protocol/rtp/RtpPacket.hpp"
#include "protocol/srtp/Base64.hpp"
#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "utils/Bytes.hpp"
#include "utils/Random.hpp"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <span>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using sfu::bench::cpuSeconds;
using sfu::bench::nowUs;

using nlohmann::json;
namespace dtls = sfu::dtls;
namespace ice = sfu::ice;
namespace srtp = sfu::srtp;

constexpr int kSocketBuffer = 4 * 1024 * 1024;
constexpr size_t kMaxDatagram = 2048;
// Datagrams read from one socket per loop round, so that one busy leg does
// not starve the others.
constexpr int kReadBurst = 64;
// Every how many RTP packets a receiving leg decrypts one.
constexpr uint64_t kDecryptEvery = 64;
constexpr uint64_t kIceRetryUs = 100'000;
constexpr uint64_t kConsentIntervalUs = 2'000'000;
// The RTP stream fanout.py's plain sender produces.
constexpr uint8_t kPayloadType = 101;
constexpr uint32_t kClockRate = 90000;
constexpr uint32_t kProducerSsrc = 0x1000'0001;
// Not 0, as fanout.py's FIRST_SEQUENCE: mediasoup 3.8.4 counts a stream
// that starts at 0 as 65,536 packets lost.
constexpr uint64_t kFirstSequence = 1000;
constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kDescriptorSize = 4;

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "sfu-load_peer: %s\n"
                 "usage: sfu-load_peer --mode=send [--rate=N] [--size=S] [--fps=F] "
                 "[--burst-ms=B] [--srtp=PROFILE]\n"
                 "       sfu-load_peer --mode=recv --legs=N [--srtp=PROFILE]\n",
                 why.c_str());
    std::exit(2);
}

uint64_t numberOption(const std::map<std::string, std::string>& options, const std::string& key,
                      uint64_t fallback, uint64_t min, uint64_t max) {
    const auto it = options.find(key);
    if (it == options.end()) {
        return fallback;
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(it->second.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        usage("invalid --" + key + "=" + it->second);
    }
    return n;
}

std::vector<uint8_t> decodeKey(const json& command, const char* field, srtp::CryptoSuite suite) {
    auto key = srtp::base64Decode(command.at(field).get<std::string>());
    if (!key || key->size() != srtp::keyLength(suite)) {
        throw std::invalid_argument(std::string("bad ") + field);
    }
    return *key;
}

// True if a compound RTCP packet holds a PLI (PSFB fmt 1) or a FIR (fmt 4).
bool asksKeyFrame(const uint8_t* data, size_t len) {
    size_t pos = 0;
    while (pos + 4 <= len) {
        const uint8_t fmt = data[pos] & 0x1F;
        if (data[pos + 1] == 206 && (fmt == 1 || fmt == 4)) {
            return true;
        }
        pos += (static_cast<size_t>(sfu::bytes::get16(data + pos + 2)) + 1) * 4;
    }
    return false;
}

bool startsKeyFrame(uint8_t* data, size_t len) {
    const auto packet = sfu::rtp::RtpPacket::parse(data, len);
    if (!packet) {
        return false;
    }
    const auto descriptor =
        sfu::codecs::vp8::PayloadDescriptor::parse(packet->payload(), packet->payloadLength());
    return descriptor && descriptor->isKeyFrame;
}

// The VP8 stream's packets, built in place: a full-size packet whose
// header and PictureID change per send.
class Vp8Stream {
public:
    Vp8Stream(size_t size, uint32_t rate, uint32_t fps, uint32_t burstMs)
        : size_(size), rate_(rate), fps_(fps), burstUs_(uint64_t{burstMs} * 1000) {}

    // Writes packet `k` into `out` (capacity for size() bytes); `forceKey`
    // makes the next frame a key frame and is cleared when one starts.
    void build(uint64_t k, bool& forceKey, uint8_t* out) const {
        const uint64_t frame = k * fps_ / rate_;
        const bool first = k == 0 || (k - 1) * fps_ / rate_ != frame;
        const bool last = (k + 1) * fps_ / rate_ != frame;
        const bool key = first && (frame % fps_ == 0 || forceKey);
        if (key) {
            forceKey = false;
        }
        std::memset(out, 0xAB, size_);
        out[0] = 0x80;
        out[1] = static_cast<uint8_t>(kPayloadType | (last ? 0x80 : 0));
        sfu::bytes::set16(out + 2, static_cast<uint16_t>(kFirstSequence + k));
        sfu::bytes::set32(out + 4, static_cast<uint32_t>(frame * kClockRate / fps_));
        sfu::bytes::set32(out + 8, kProducerSsrc);
        // RFC 7741 descriptor: X=1, S on a frame's first packet, a 15-bit
        // PictureID.
        uint8_t* d = out + kRtpHeaderSize;
        d[0] = first ? 0x90 : 0x80;
        d[1] = 0x80;
        d[2] = static_cast<uint8_t>(0x80 | ((frame >> 8) & 0x7F));
        d[3] = static_cast<uint8_t>(frame & 0xFF);
        if (!first) {
            return;
        }
        // Frame tag (bit 0 clear for a key frame, show_frame set), then for
        // a key frame the start code and 1280x720.
        static constexpr uint8_t kKeyTag[] = {0x10, 0x02, 0x00, 0x9D, 0x01,
                                              0x2A, 0x00, 0x05, 0xD0, 0x02};
        static constexpr uint8_t kDeltaTag[] = {0x11, 0x02, 0x00};
        if (key) {
            std::memcpy(d + kDescriptorSize, kKeyTag, sizeof(kKeyTag));
        } else {
            std::memcpy(d + kDescriptorSize, kDeltaTag, sizeof(kDeltaTag));
        }
    }

    size_t size() const { return size_; }
    uint32_t rate() const { return rate_; }

    // When packet `k` leaves, in µs from the stream's start: when it is
    // due, or with bursts at the next burst after that.
    uint64_t sendTimeUs(uint64_t k) const {
        const uint64_t due = k * 1'000'000 / rate_;
        return burstUs_ == 0 ? due : (due + burstUs_ - 1) / burstUs_ * burstUs_;
    }

private:
    size_t size_;
    uint32_t rate_;
    uint32_t fps_;
    uint64_t burstUs_;
};

// One UDP socket towards one worker transport, with its ICE, DTLS and SRTP
// state and its counters.
class Leg : public dtls::DtlsTransport::Listener {
public:
    explicit Leg(size_t index) : index_(index) {
        fd_ = sfu::bench::openUdpSocket(kSocketBuffer);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(local);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
            getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
            const std::string why = std::strerror(errno);
            close(fd_);
            throw std::runtime_error("bind: " + why);
        }
        localPort_ = ntohs(local.sin_port);
    }
    ~Leg() override {
        dtls_.reset();
        close(fd_);
    }
    Leg(const Leg&) = delete;
    Leg& operator=(const Leg&) = delete;

    int fd() const { return fd_; }
    uint16_t localPort() const { return localPort_; }
    bool keyed() const { return out_ != nullptr; }
    bool iceDone() const { return iceDone_; }
    std::string_view dtlsState() const {
        return dtls_ ? dtls::stateName(dtls_->state()) : std::string_view("none");
    }
    std::optional<srtp::CryptoSuite> suite() const {
        return out_ ? std::optional(out_->suite()) : std::nullopt;
    }

    // SDES: both keys known up front.
    void useSrtp(uint16_t port, srtp::CryptoSuite suite, std::span<const uint8_t> sendKey,
                 std::span<const uint8_t> recvKey) {
        setRemote(port);
        out_ = std::make_unique<srtp::SrtpSession>(srtp::Direction::Outbound, suite, sendKey);
        in_ = std::make_unique<srtp::SrtpSession>(srtp::Direction::Inbound, suite, recvKey);
    }

    // ICE, then DTLS as client: the keys come later.
    void useWebRtc(uint16_t port, std::string serverUfrag, const std::string& serverPwd,
                   std::shared_ptr<const dtls::DtlsContext> context,
                   const std::string& serverFingerprint) {
        setRemote(port);
        username_ = serverUfrag + ":loadpeer" + std::to_string(index_);
        integrity_ = std::make_unique<ice::HmacSha1>(serverPwd);
        dtls_ = std::make_unique<dtls::DtlsTransport>(std::move(context), *this);
        dtls_->setRemoteFingerprint(dtls::FingerprintAlgorithm::Sha256, serverFingerprint);
        nextBindingUs_ = nowUs();
    }

    // The earliest time this leg has something to do (0: nothing pending).
    uint64_t nextDeadline() const {
        uint64_t next = integrity_ ? nextBindingUs_ : 0;
        if (dtlsTimerUs_ != 0 && (next == 0 || dtlsTimerUs_ < next)) {
            next = dtlsTimerUs_;
        }
        return next;
    }

    void runTimers(uint64_t now) {
        if (integrity_ && now >= nextBindingUs_) {
            sendBindingRequest();
            nextBindingUs_ = now + (iceDone_ ? kConsentIntervalUs : kIceRetryUs);
        }
        if (dtlsTimerUs_ != 0 && now >= dtlsTimerUs_) {
            dtlsTimerUs_ = 0;
            dtls_->handleTimeout();
        }
    }

    // Protects and sends one RTP packet of `len` bytes in `buf` (capacity
    // `capacity`). False if it could not go out.
    bool sendRtp(uint8_t* buf, size_t len, size_t capacity) {
        if (!out_->protectRtp(buf, len, capacity)) {
            ++protectFailures_;
            return false;
        }
        return send(buf, len);
    }

    // Reads up to kReadBurst datagrams; counts in `keyFrameRequests` the
    // PLIs and FIRs among the RTCP it decrypts.
    void receive(uint64_t& keyFrameRequests) {
        for (int i = 0; i < kReadBurst; ++i) {
            const ssize_t n = recv(fd_, buf_.data(), buf_.size(), 0);
            if (n <= 0) {
                return;
            }
            handle(static_cast<size_t>(n), keyFrameRequests);
        }
    }

    json counters() const {
        return {{"count", count_},
                {"ext", ext_},
                {"rtcp", rtcp_},
                {"badStart", badStart_},
                {"decrypted", decrypted_},
                {"decryptFailures", decryptFailures_},
                {"protectFailures", protectFailures_}};
    }
    uint64_t count() const { return count_; }

    // DtlsTransport::Listener
    void onDtlsConnected(dtls::SrtpProfile profile, std::span<const uint8_t> localKey,
                         std::span<const uint8_t> remoteKey, const std::string&) override {
        const auto suite = srtp::parseCryptoSuite(dtls::srtpProfileName(profile));
        out_ = std::make_unique<srtp::SrtpSession>(srtp::Direction::Outbound, *suite, localKey);
        in_ = std::make_unique<srtp::SrtpSession>(srtp::Direction::Inbound, *suite, remoteKey);
    }
    void onDtlsFailed() override {
        std::fprintf(stderr, "sfu-load_peer: leg %zu: DTLS failed: %s\n", index_,
                     dtls_->lastError().c_str());
    }
    // The worker closes its end when the run is over: nothing to say.
    void onDtlsClosed() override {}
    void sendDtlsData(const uint8_t* data, size_t len) override { send(data, len); }
    void startTimer(uint64_t ms) override { dtlsTimerUs_ = nowUs() + ms * 1000 + 1; }
    void stopTimer() override { dtlsTimerUs_ = 0; }

private:
    void setRemote(uint16_t port) {
        remote_.sin_family = AF_INET;
        remote_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        remote_.sin_port = htons(port);
    }

    bool send(const uint8_t* data, size_t len) {
        return sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&remote_),
                      sizeof(remote_)) == static_cast<ssize_t>(len);
    }

    void sendBindingRequest() {
        std::array<uint8_t, ice::kTransactionIdSize> transactionId{};
        sfu::randomBytes(transactionId);
        std::array<uint8_t, 256> message{};
        ice::StunBuilder stun(message.data(), message.size(), ice::kBindingRequest, transactionId);
        stun.addUsername(username_);
        // Priority of a host candidate (RFC 8445 5.1.2.1, type preference 126).
        stun.addPriority((126u << 24) | (65535u << 8) | 255u);
        stun.addIceControlling(0x4C4F4144'50454552ull + index_);
        stun.addUseCandidate();
        stun.addMessageIntegrity(*integrity_);
        stun.addFingerprint();
        if (stun.ok()) {
            send(message.data(), stun.size());
        }
    }

    void handle(size_t n, uint64_t& keyFrameRequests) {
        uint8_t* data = buf_.data();
        if (data[0] < 4) {
            handleStun(n);
        } else if (dtls_ && dtls::DtlsTransport::isDtls(data, n)) {
            dtls_->processDtlsData(data, n);
        } else if (n >= kRtpHeaderSize && data[0] >= 128 && data[0] < 192) {
            if (data[1] >= 192 && data[1] <= 223) {
                ++rtcp_;
                if (!in_) {
                    return;
                }
                if (!in_->unprotectRtcp(data, n)) {
                    ++decryptFailures_;
                    return;
                }
                ++decrypted_;
                if (asksKeyFrame(data, n)) {
                    ++keyFrameRequests;
                }
            } else {
                handleRtp(n);
            }
        }
    }

    void handleStun(size_t n) {
        const auto stun = ice::StunMessage::parse(buf_.data(), n);
        if (!stun || !integrity_ || stun->type() != ice::kBindingSuccessResponse ||
            !stun->checkIntegrity(*integrity_)) {
            return;
        }
        if (!iceDone_) {
            iceDone_ = true;
            nextBindingUs_ = nowUs() + kConsentIntervalUs;
            dtls_->run(dtls::Role::Client);
        }
    }

    void handleRtp(size_t n) {
        const uint16_t seq = sfu::bytes::get16(buf_.data() + 2);
        const bool firstPacket = count_ == 0;
        const auto delta = static_cast<uint16_t>(seq - lastSeq_);
        if (firstPacket) {
            ext_ = seq;
            lastSeq_ = seq;
        } else if (delta < 0x8000) { // else an older packet, arriving out of order
            ext_ += delta;
            lastSeq_ = seq;
        }
        if (in_ && (firstPacket || count_ % kDecryptEvery == 0)) {
            if (in_->unprotectRtp(buf_.data(), n)) {
                ++decrypted_;
                if (firstPacket && !startsKeyFrame(buf_.data(), n)) {
                    ++badStart_;
                }
            } else {
                ++decryptFailures_;
            }
        }
        ++count_;
    }

    size_t index_;
    int fd_ = -1;
    uint16_t localPort_ = 0;
    sockaddr_in remote_{};
    std::array<uint8_t, kMaxDatagram> buf_{};
    // ICE (WebRTC legs only).
    std::string username_;
    std::unique_ptr<ice::HmacSha1> integrity_;
    bool iceDone_ = false;
    uint64_t nextBindingUs_ = 0;
    // DTLS (WebRTC legs only).
    std::unique_ptr<dtls::DtlsTransport> dtls_;
    uint64_t dtlsTimerUs_ = 0;
    // SRTP, once keyed.
    std::unique_ptr<srtp::SrtpSession> out_;
    std::unique_ptr<srtp::SrtpSession> in_;
    // Counters.
    uint64_t count_ = 0;
    uint64_t ext_ = 0;
    uint16_t lastSeq_ = 0;
    uint64_t rtcp_ = 0;
    uint64_t badStart_ = 0;
    uint64_t decrypted_ = 0;
    uint64_t decryptFailures_ = 0;
    uint64_t protectFailures_ = 0;
};

class Peer {
public:
    Peer(size_t legs, std::optional<Vp8Stream> stream, std::span<const dtls::SrtpProfile> profiles)
        : stream_(std::move(stream)) {
        auto certificate = dtls::Certificate::generate();
        fingerprint_ = certificate->fingerprint(dtls::FingerprintAlgorithm::Sha256);
        context_ = std::make_shared<const dtls::DtlsContext>(std::move(certificate), profiles);
        for (size_t i = 0; i < legs; ++i) {
            legs_.push_back(std::make_unique<Leg>(i));
        }
        if (stream_) {
            packet_.resize(stream_->size() + srtp::kMaxTrailerLength);
        }
    }

    json hello() const {
        json ports = json::array();
        for (const auto& leg : legs_) {
            ports.push_back(leg->localPort());
        }
        return {{"ports", ports}, {"fingerprint", fingerprint_}};
    }

    // Runs until "stop" or EOF on stdin.
    void run() {
        std::vector<pollfd> fds(legs_.size() + 1);
        fds[0] = {STDIN_FILENO, POLLIN, 0};
        for (size_t i = 0; i < legs_.size(); ++i) {
            fds[i + 1] = {legs_[i]->fd(), POLLIN, 0};
        }
        while (true) {
            const uint64_t now = nowUs();
            sendDue(now);
            for (auto& leg : legs_) {
                leg->runTimers(now);
            }
            const timespec timeout = timeoutUntil(nextDeadline(), nowUs());
            if (ppoll(fds.data(), fds.size(), &timeout, nullptr) < 0 && errno != EINTR) {
                throw std::runtime_error("poll: " + std::string(std::strerror(errno)));
            }
            for (size_t i = 0; i < legs_.size(); ++i) {
                if (fds[i + 1].revents & POLLIN) {
                    const uint64_t before = keyFrameRequests_;
                    legs_[i]->receive(keyFrameRequests_);
                    forceKey_ = forceKey_ || keyFrameRequests_ != before;
                }
            }
            if ((fds[0].revents & (POLLIN | POLLHUP)) && !readCommands()) {
                return;
            }
        }
    }

private:
    // The sender sends what is due by now once its leg is keyed; the rate's
    // clock starts then.
    void sendDue(uint64_t now) {
        if (!stream_ || !legs_[0]->keyed()) {
            return;
        }
        if (startUs_ == 0) {
            startUs_ = now;
        }
        for (; startUs_ + stream_->sendTimeUs(sent_) <= now; ++sent_) {
            stream_->build(sent_, forceKey_, packet_.data());
            legs_[0]->sendRtp(packet_.data(), stream_->size(), packet_.size());
        }
    }

    uint64_t nextDeadline() const {
        uint64_t next = nowUs() + 1'000'000;
        if (stream_ && startUs_ != 0) {
            next = std::min(next, startUs_ + stream_->sendTimeUs(sent_));
        }
        for (const auto& leg : legs_) {
            const uint64_t deadline = leg->nextDeadline();
            if (deadline != 0) {
                next = std::min(next, deadline);
            }
        }
        return next;
    }

    static timespec timeoutUntil(uint64_t deadline, uint64_t now) {
        const uint64_t us = deadline > now ? deadline - now : 0;
        return {static_cast<time_t>(us / 1'000'000), static_cast<long>(us % 1'000'000) * 1000};
    }

    // Handles every complete line on stdin; false to exit.
    bool readCommands() {
        char chunk[4096];
        const ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n <= 0) {
            return false;
        }
        input_.append(chunk, static_cast<size_t>(n));
        size_t eol;
        while ((eol = input_.find('\n')) != std::string::npos) {
            const std::string line = input_.substr(0, eol);
            input_.erase(0, eol + 1);
            if (!command(line)) {
                return false;
            }
        }
        return true;
    }

    bool command(const std::string& line) {
        json answer;
        bool more = true;
        try {
            const json c = json::parse(line);
            const std::string cmd = c.at("cmd").get<std::string>();
            if (cmd == "srtp" || cmd == "webrtc") {
                Leg& leg = *legs_.at(c.at("leg").get<size_t>());
                const auto port = c.at("port").get<uint16_t>();
                if (cmd == "srtp") {
                    const auto suite = srtp::parseCryptoSuite(c.at("suite").get<std::string>());
                    if (!suite) {
                        throw std::invalid_argument("unknown suite");
                    }
                    leg.useSrtp(port, *suite, decodeKey(c, "sendKey", *suite),
                                decodeKey(c, "recvKey", *suite));
                } else {
                    leg.useWebRtc(port, c.at("ufrag").get<std::string>(),
                                  c.at("pwd").get<std::string>(), context_,
                                  c.at("fingerprint").get<std::string>());
                }
                answer = {{"ok", true}};
            } else if (cmd == "snap" || cmd == "stop") {
                answer = snapshot();
                more = cmd == "snap";
            } else {
                throw std::invalid_argument("unknown command");
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sfu-load_peer: bad command %s: %s\n", line.c_str(), e.what());
            std::exit(2);
        }
        std::cout << answer.dump() << std::endl;
        return more;
    }

    json snapshot() const {
        json legs = json::array();
        std::string suite;
        size_t keyed = 0;
        size_t iceDone = 0;
        std::map<std::string, size_t> dtlsStates;
        for (const auto& leg : legs_) {
            legs.push_back(leg->counters());
            keyed += leg->keyed();
            iceDone += leg->iceDone();
            ++dtlsStates[std::string(leg->dtlsState())];
            if (leg->suite()) {
                suite = srtp::cryptoSuiteName(*leg->suite());
            }
        }
        return {{"legs", legs},   {"sent", sent_},      {"keyFrameRequests", keyFrameRequests_},
                {"keyed", keyed}, {"iceDone", iceDone}, {"dtlsStates", dtlsStates},
                {"suite", suite}, {"cpu", cpuSeconds()}};
    }

    std::optional<Vp8Stream> stream_;
    std::vector<std::unique_ptr<Leg>> legs_;
    std::string fingerprint_;
    std::shared_ptr<const dtls::DtlsContext> context_;
    std::vector<uint8_t> packet_;
    std::string input_;
    uint64_t startUs_ = 0;
    uint64_t sent_ = 0;
    uint64_t keyFrameRequests_ = 0;
    bool forceKey_ = false;
};

} // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const size_t eq = arg.find('=');
        if (arg.compare(0, 2, "--") != 0 || eq == std::string::npos) {
            usage("bad argument " + arg);
        }
        options[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
    const std::string mode = options.count("mode") ? options["mode"] : "";
    std::optional<Vp8Stream> stream;
    size_t legs = 1;
    if (mode == "send") {
        const auto size = numberOption(options, "size", 1100, 32, kMaxDatagram - 64);
        const auto rate = numberOption(options, "rate", 1000, 1, 1'000'000);
        const auto fps = numberOption(options, "fps", 30, 1, rate);
        const auto burstMs = numberOption(options, "burst-ms", 0, 0, 1000);
        stream.emplace(size, static_cast<uint32_t>(rate), static_cast<uint32_t>(fps),
                       static_cast<uint32_t>(burstMs));
    } else if (mode == "recv") {
        legs = numberOption(options, "legs", 1, 1, 10000);
    } else {
        usage("--mode must be send or recv");
    }
    for (const auto& [key, value] : options) {
        const bool known =
            key == "mode" || key == "srtp" ||
            (mode == "send" ? key == "size" || key == "rate" || key == "fps" || key == "burst-ms"
                            : key == "legs");
        if (!known) {
            usage("--" + key + " is not an option of --mode=" + mode);
        }
    }
    std::vector<dtls::SrtpProfile> profiles(dtls::kAllSrtpProfiles.begin(),
                                            dtls::kAllSrtpProfiles.end());
    if (options.count("srtp")) {
        const auto profile = dtls::parseSrtpProfile(options["srtp"]);
        if (!profile) {
            usage("unknown DTLS-SRTP profile " + options["srtp"]);
        }
        profiles = {*profile};
    }
    try {
        Peer peer(legs, std::move(stream), profiles);
        std::cout << peer.hello().dump() << std::endl;
        peer.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sfu-load_peer: %s\n", e.what());
        return 1;
    }
    return 0;
}
