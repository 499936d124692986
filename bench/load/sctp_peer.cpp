// SCTP load peer for the data fan-out run (bench/load/data_fanout.py), built
// on the project's own SctpAssociation: SCTP over plain UDP, port 5000 on
// both ends, the way a data channel peer talks to a PlainTransport with
// comedia (it sends first from its UDP socket; the worker latches it).
//
//   sfu-sctp_peer --mode=send --remote-port=P [--rate=N] [--size=S]
//                 [--stream=X] [--ppid=53] [--send-buffer=BYTES]
//     One association. After "start" on stdin it sends --rate messages/s of
//     --size bytes on stream --stream (reliable, ordered). Every message
//     begins with its 64-bit index (host order), the rest is filler. When
//     the association's send buffer is full it waits; a backlog larger than
//     50 ms of messages is given up and counted as "skipped", so that the
//     rate never bursts far above --rate to catch up.
//
//   sfu-sctp_peer --mode=recv --remote-ports=P1,P2,...
//     One association (one UDP socket) per port. Counts the messages and
//     bytes each one receives, and the gaps in the message indices (each
//     receiver gets every message in order, so a gap is a message the
//     worker dropped).
//
// Both take --remote-ip (default 127.0.0.1) and read commands on stdin, one
// per line, each answered with one JSON line on stdout: "snap" (counters),
// "start" (sender: begin sending; then the counters), "pause" (sender: send
// no more, what is queued still goes; then the counters), "stop" (the
// counters, then exit: the associations abort). EOF on stdin also ends the
// process. usrsctp's timers advance every 10 ms.
//
// Exit codes: 0 done, 1 socket error, 2 bad options.

#include "PeerCommon.hpp"
#include "protocol/sctp/SctpAssociation.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using sfu::bench::cpuSeconds;
using sfu::bench::nowUs;

using sfu::sctp::SctpAssociation;
using sfu::sctp::State;

constexpr int kSocketBuffer = 4 * 1024 * 1024;
constexpr uint64_t kTimerTickUs = 10000;
// Most datagrams read from one socket per loop round, so that one busy
// association does not starve the others.
constexpr int kReadBurst = 64;

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "sfu-sctp_peer: %s\n"
                 "usage: sfu-sctp_peer --mode=send --remote-port=P [--rate=N] [--size=S] "
                 "[--stream=X] [--ppid=53] [--send-buffer=BYTES] [--remote-ip=A]\n"
                 "       sfu-sctp_peer --mode=recv --remote-ports=P1,P2,... [--remote-ip=A]\n",
                 why.c_str());
    std::exit(2);
}

// --key=value options; every one given must be read.
class Options {
public:
    Options(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            const size_t eq = arg.find('=');
            if (arg.size() < 3 || arg.compare(0, 2, "--") != 0 || eq == std::string::npos) {
                usage("bad argument " + arg);
            }
            values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
        }
    }

    std::string text(const std::string& key, const std::string& fallback) {
        const auto it = values_.find(key);
        if (it == values_.end()) {
            return fallback;
        }
        std::string value = it->second;
        values_.erase(it);
        return value;
    }

    uint64_t number(const std::string& key, uint64_t fallback, uint64_t max) {
        const std::string value = text(key, "");
        if (value.empty()) {
            return fallback;
        }
        char* end = nullptr;
        errno = 0;
        const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
        if (errno != 0 || *end != '\0' || n > max) {
            usage("invalid --" + key + "=" + value);
        }
        return n;
    }

    void checkAllRead() const {
        if (!values_.empty()) {
            usage("unknown option --" + values_.begin()->first);
        }
    }

private:
    std::map<std::string, std::string> values_;
};

// One association over its own connected UDP socket.
class Peer : public SctpAssociation::Listener {
public:
    Peer(const sockaddr_in& remote, const SctpAssociation::Options& options)
        : association_(options, *this) {
        try {
            fd_ = sfu::bench::openUdpSocket(kSocketBuffer);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            std::exit(1);
        }
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&remote), sizeof(remote)) != 0) {
            std::perror("connect");
            std::exit(1);
        }
    }
    ~Peer() override { ::close(fd_); }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    int fd() const { return fd_; }
    SctpAssociation& association() { return association_; }

    // Reads what the socket holds (at most kReadBurst datagrams).
    void readSocket() {
        for (int i = 0; i < kReadBurst; ++i) {
            const ssize_t n = recv(fd_, buffer_, sizeof(buffer_), MSG_DONTWAIT);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED) {
                    ++readErrors;
                }
                return;
            }
            ++datagramsIn;
            association_.receivePacket(buffer_, static_cast<size_t>(n));
        }
    }

    void onSctpStateChanged(State state) override {
        if (state == State::Failed || state == State::Closed) {
            ++failures;
        }
    }
    void onSctpSendPacket(const uint8_t* data, size_t length) override {
        if (send(fd_, data, length, MSG_DONTWAIT) < 0) {
            ++sendErrors;
        } else {
            ++datagramsOut;
        }
    }
    void onSctpMessage(uint16_t, uint32_t, const uint8_t* data, size_t length) override {
        ++messages;
        bytes += length;
        if (length < sizeof(uint64_t)) {
            return;
        }
        uint64_t index;
        std::memcpy(&index, data, sizeof(index));
        if (messages == 1) {
            firstIndex = index;
        } else if (index > nextIndex) {
            gaps += index - nextIndex;
        } else if (index < nextIndex) {
            ++outOfOrder;
        }
        if (index >= nextIndex || messages == 1) {
            nextIndex = index + 1;
        }
    }
    void onSctpIncomingStreamReset(uint16_t) override {}
    void onSctpBufferedAmount(uint32_t) override {}

    uint64_t messages = 0;
    uint64_t bytes = 0;
    uint64_t gaps = 0;
    uint64_t outOfOrder = 0;
    uint64_t firstIndex = 0;
    uint64_t nextIndex = 0;
    uint64_t datagramsIn = 0;
    uint64_t datagramsOut = 0;
    uint64_t sendErrors = 0;
    uint64_t readErrors = 0;
    uint64_t failures = 0;

private:
    int fd_ = -1;
    SctpAssociation association_;
    uint8_t buffer_[65536];
};

struct SendConfig {
    uint64_t rate = 1000;
    size_t size = 1024;
    uint16_t stream = 0;
    uint32_t ppid = sfu::sctp::kPpidBinary;
};

// The sender's pacing state.
struct Sender {
    SendConfig config;
    std::vector<uint8_t> message;
    bool started = false;
    uint64_t startUs = 0;
    uint64_t sent = 0;
    uint64_t skipped = 0;
    uint64_t bufferFull = 0;
    uint64_t otherFailures = 0;

    // Sends what is due by `now`, until the association's send buffer is full.
    void pump(SctpAssociation& association, uint64_t now) {
        if (!started) {
            return;
        }
        const uint64_t due = (now - startUs) * config.rate / 1000000 + 1;
        const uint64_t maxBacklog = config.rate / 20 + 1;
        if (due > sent + skipped + maxBacklog) {
            skipped = due - maxBacklog - sent;
        }
        sfu::sctp::SendParameters parameters;
        parameters.streamId = config.stream;
        parameters.ordered = true;
        while (sent + skipped < due) {
            std::memcpy(message.data(), &sent, sizeof(sent));
            const auto result =
                association.sendMessage(parameters, config.ppid, message.data(), message.size());
            if (result == SctpAssociation::SendResult::Sent) {
                ++sent;
                continue;
            }
            if (result == SctpAssociation::SendResult::BufferFull) {
                ++bufferFull;
            } else {
                ++otherFailures;
            }
            return;
        }
    }
};

void printCounters(const std::vector<std::unique_ptr<Peer>>& peers, const Sender* sender) {
    uint64_t messages = 0, bytes = 0, gaps = 0, outOfOrder = 0, connected = 0, failures = 0;
    uint64_t sendErrors = 0, readErrors = 0, datagramsIn = 0, datagramsOut = 0;
    std::string perPeer;
    for (const auto& p : peers) {
        messages += p->messages;
        bytes += p->bytes;
        gaps += p->gaps;
        outOfOrder += p->outOfOrder;
        failures += p->failures;
        sendErrors += p->sendErrors;
        readErrors += p->readErrors;
        datagramsIn += p->datagramsIn;
        datagramsOut += p->datagramsOut;
        connected += p->association().state() == State::Connected ? 1 : 0;
        if (!perPeer.empty()) {
            perPeer.push_back(',');
        }
        perPeer.append(std::to_string(p->messages));
    }
    std::printf("{\"time\":%.6f,\"cpu\":%.6f,\"associations\":%zu,\"connected\":%" PRIu64
                ",\"failures\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"gaps\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",\"per_association\":[%s]"
                ",\"datagrams_in\":%" PRIu64 ",\"datagrams_out\":%" PRIu64
                ",\"udp_send_errors\":%" PRIu64 ",\"udp_read_errors\":%" PRIu64,
                static_cast<double>(nowUs()) / 1e6, cpuSeconds(), peers.size(), connected, failures,
                messages, bytes, gaps, outOfOrder, perPeer.c_str(), datagramsIn, datagramsOut,
                sendErrors, readErrors);
    if (sender != nullptr) {
        std::printf(
            ",\"started\":%s,\"sent\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"buffer_full\":%" PRIu64
            ",\"send_failures\":%" PRIu64 ",\"buffered_amount\":%" PRIu32,
            sender->started ? "true" : "false", sender->sent, sender->skipped, sender->bufferFull,
            sender->otherFailures, peers.front()->association().bufferedAmount());
    }
    std::printf("}\n");
    std::fflush(stdout);
}

std::vector<uint16_t> parsePorts(const std::string& text) {
    std::vector<uint16_t> ports;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string::npos) {
            comma = text.size();
        }
        const std::string part = text.substr(pos, comma - pos);
        char* end = nullptr;
        const unsigned long port = std::strtoul(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || port == 0 || port > 65535) {
            usage("invalid port list " + text);
        }
        ports.push_back(static_cast<uint16_t>(port));
        pos = comma + 1;
    }
    return ports;
}

} // namespace

int main(int argc, char** argv) {
    Options options(argc, argv);
    const std::string mode = options.text("mode", "");
    if (mode != "send" && mode != "recv") {
        usage("--mode must be send or recv");
    }
    const std::string ip = options.text("remote-ip", "127.0.0.1");
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    if (inet_pton(AF_INET, ip.c_str(), &remote.sin_addr) != 1) {
        usage("invalid --remote-ip=" + ip);
    }

    std::vector<uint16_t> ports;
    SctpAssociation::Options sctpOptions;
    std::unique_ptr<Sender> sender;
    if (mode == "send") {
        ports.push_back(static_cast<uint16_t>(options.number("remote-port", 0, 65535)));
        if (ports.front() == 0) {
            usage("--remote-port is required");
        }
        sender = std::make_unique<Sender>();
        sender->config.rate = options.number("rate", 1000, 10000000);
        sender->config.size = options.number("size", 1024, 262144);
        sender->config.stream = static_cast<uint16_t>(options.number("stream", 0, 65534));
        sender->config.ppid = static_cast<uint32_t>(options.number("ppid", 53, UINT32_MAX));
        sctpOptions.sendBufferSize =
            static_cast<uint32_t>(options.number("send-buffer", 262144, 64 * 1024 * 1024));
        if (sender->config.size < sizeof(uint64_t)) {
            usage("--size must be at least 8");
        }
        sender->message.assign(sender->config.size, 0xAB);
    } else {
        ports = parsePorts(options.text("remote-ports", ""));
    }
    options.checkAllRead();

    std::vector<std::unique_ptr<Peer>> peers;
    for (const uint16_t port : ports) {
        remote.sin_port = htons(port);
        peers.push_back(std::make_unique<Peer>(remote, sctpOptions));
    }
    // INIT goes out first from every socket: the worker latches the tuple.
    for (auto& p : peers) {
        p->association().connect();
    }

    std::vector<pollfd> fds;
    fds.push_back({STDIN_FILENO, POLLIN, 0});
    for (auto& p : peers) {
        fds.push_back({p->fd(), POLLIN, 0});
    }
    std::string input;
    uint64_t lastTimerUs = nowUs();
    for (;;) {
        const uint64_t now = nowUs();
        if (now - lastTimerUs >= kTimerTickUs) {
            const uint64_t elapsedMs = (now - lastTimerUs) / 1000;
            lastTimerUs += elapsedMs * 1000;
            sfu::sctp::advanceTimers(static_cast<uint32_t>(elapsedMs));
        }
        if (sender) {
            sender->pump(peers.front()->association(), now);
        }
        // The sender wakes every millisecond to keep its pace smooth.
        const int timeoutMs = sender && sender->started ? 1 : 10;
        if (poll(fds.data(), fds.size(), timeoutMs) < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::perror("poll");
            return 1;
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLERR)) != 0) {
                peers[i - 1]->readSocket();
            }
        }
        if ((fds[0].revents & (POLLIN | POLLHUP)) == 0) {
            continue;
        }
        char chunk[256];
        const ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n <= 0) {
            return 0;
        }
        input.append(chunk, static_cast<size_t>(n));
        size_t eol;
        while ((eol = input.find('\n')) != std::string::npos) {
            const std::string command = input.substr(0, eol);
            input.erase(0, eol + 1);
            if (command == "start" && sender && !sender->started) {
                sender->started = true;
                sender->startUs = nowUs();
            } else if (command == "pause" && sender) {
                sender->started = false;
            }
            printCounters(peers, sender.get());
            if (command == "stop") {
                return 0;
            }
        }
    }
}
