// The floor of the fan-out load run: the least work a forwarder on this host
// can do for it. One UDP socket receives the producer's RTP; each consumer
// has a UDP socket of its own (as a worker's PlainTransports have) that
// sends every received packet, unchanged, to that consumer's address. A
// burst is read with one recvmmsg and goes out with one sendmmsg per
// consumer socket; nothing is parsed but the RTP sequence number, which
// gives the input loss.
//
//   sfu-raw_forwarder IP PORT [PORT...]
//
// binds IP (port 0 for the input and every consumer socket), prints the
// input port ("port N") on stdout and forwards to IP:PORT for each PORT.
// Each line read on stdin is answered with one JSON line of counters; the
// forwarder exits when stdin closes.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr unsigned kBurst = 64;
constexpr size_t kSlot = 2048;
// What the worker asks for (deps::UdpSocket::kSocketBufferSize), capped by
// net.core.[rw]mem_max as the worker's is, so that both lose alike when
// they fall behind.
constexpr int kSocketBuffer = 1024 * 1024;

struct Counters {
    uint64_t received = 0;
    uint64_t bytesReceived = 0;
    uint64_t sent = 0;
    uint64_t sendErrors = 0;
    // Input loss from the RTP sequence numbers, as a receiver report counts
    // it: expected (highest extended sequence - first + 1) minus received.
    bool started = false;
    uint16_t lastSequence = 0;
    int64_t firstSequence = 0;
    int64_t highestSequence = 0;
};

int openSocket(const sockaddr_in& address, bool receiving) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        std::perror("socket");
        std::exit(1);
    }
    ::setsockopt(fd, SOL_SOCKET, receiving ? SO_RCVBUF : SO_SNDBUF, &kSocketBuffer,
                 sizeof(kSocketBuffer));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        std::perror("bind");
        std::exit(1);
    }
    return fd;
}

void countSequence(Counters& counters, const uint8_t* packet, size_t length) {
    if (length < 12) {
        return;
    }
    const auto sequence = static_cast<uint16_t>(packet[2] << 8 | packet[3]);
    if (!counters.started) {
        counters.started = true;
        counters.firstSequence = counters.highestSequence = sequence;
    } else {
        const auto delta = static_cast<uint16_t>(sequence - counters.lastSequence);
        if (delta >= 0x8000) {
            return; // older, out of order
        }
        counters.highestSequence += delta;
    }
    counters.lastSequence = sequence;
}

void report(const Counters& counters) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    const int64_t expected =
        counters.started ? counters.highestSequence - counters.firstSequence + 1 : 0;
    const int64_t lost = expected - static_cast<int64_t>(counters.received);
    std::printf("{\"timestamp\": %lld, \"received\": %llu, \"bytesReceived\": %llu, "
                "\"lost\": %lld, \"sent\": %llu, \"sendErrors\": %llu}\n",
                static_cast<long long>(now), static_cast<unsigned long long>(counters.received),
                static_cast<unsigned long long>(counters.bytesReceived),
                static_cast<long long>(lost > 0 ? lost : 0),
                static_cast<unsigned long long>(counters.sent),
                static_cast<unsigned long long>(counters.sendErrors));
    std::fflush(stdout);
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s IP PORT [PORT...]\n", argv[0]);
        return 2;
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, argv[1], &local.sin_addr) != 1) {
        std::fprintf(stderr, "invalid IPv4 address '%s'\n", argv[1]);
        return 2;
    }
    std::vector<sockaddr_in> destinations;
    std::vector<int> senders;
    for (int i = 2; i < argc; ++i) {
        sockaddr_in destination = local;
        destination.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[i])));
        destinations.push_back(destination);
        senders.push_back(openSocket(local, false));
    }
    const int input = openSocket(local, true);
    sockaddr_in bound{};
    socklen_t boundLength = sizeof(bound);
    ::getsockname(input, reinterpret_cast<sockaddr*>(&bound), &boundLength);
    std::printf("port %u\n", unsigned{ntohs(bound.sin_port)});
    std::fflush(stdout);

    static uint8_t buffers[kBurst][kSlot];
    mmsghdr in[kBurst];
    iovec inVectors[kBurst];
    sockaddr_in sources[kBurst];
    mmsghdr out[kBurst];
    iovec outVectors[kBurst];
    Counters counters;
    pollfd fds[2] = {{input, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    char line[256];
    while (true) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::perror("poll");
            return 1;
        }
        if (fds[1].revents != 0) {
            if (std::fgets(line, sizeof(line), stdin) == nullptr) {
                return 0;
            }
            report(counters);
        }
        if ((fds[0].revents & POLLIN) == 0) {
            continue;
        }
        for (unsigned i = 0; i < kBurst; ++i) {
            inVectors[i] = {buffers[i], kSlot};
            in[i] = mmsghdr{};
            in[i].msg_hdr.msg_name = &sources[i];
            in[i].msg_hdr.msg_namelen = sizeof(sources[i]);
            in[i].msg_hdr.msg_iov = &inVectors[i];
            in[i].msg_hdr.msg_iovlen = 1;
        }
        const int received = ::recvmmsg(input, in, kBurst, 0, nullptr);
        if (received <= 0) {
            continue;
        }
        for (int i = 0; i < received; ++i) {
            ++counters.received;
            counters.bytesReceived += in[i].msg_len;
            countSequence(counters, buffers[i], in[i].msg_len);
            outVectors[i] = {buffers[i], in[i].msg_len};
        }
        for (size_t c = 0; c < senders.size(); ++c) {
            for (int i = 0; i < received; ++i) {
                out[i] = mmsghdr{};
                out[i].msg_hdr.msg_name = &destinations[c];
                out[i].msg_hdr.msg_namelen = sizeof(destinations[c]);
                out[i].msg_hdr.msg_iov = &outVectors[i];
                out[i].msg_hdr.msg_iovlen = 1;
            }
            int next = 0;
            while (next < received) {
                const int sent =
                    ::sendmmsg(senders[c], out + next, static_cast<unsigned>(received - next), 0);
                if (sent > 0) {
                    counters.sent += static_cast<uint64_t>(sent);
                    next += sent;
                } else if (sent < 0 && errno == EINTR) {
                    continue;
                } else {
                    // No room (or refused): the rest of the burst is lost to
                    // this consumer, as a worker with a full queue drops it.
                    counters.sendErrors += static_cast<uint64_t>(received - next);
                    break;
                }
            }
        }
    }
}
