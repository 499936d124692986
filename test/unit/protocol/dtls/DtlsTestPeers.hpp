// Two DtlsTransports wired back to back in process: each listener queues
// what its transport sends, and pump() delivers the queues until both are
// empty, never re-entering a transport from its own callback.
#pragma once

#include "protocol/dtls/DtlsTransport.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace sfu::dtls::test {

struct Endpoint : DtlsTransport::Listener {
    void onDtlsConnecting() override { ++connecting; }
    void onDtlsConnected(SrtpProfile p, std::span<const uint8_t> local,
                         std::span<const uint8_t> remote, const std::string& pem) override {
        ++connected;
        profile = p;
        localKey.assign(local.begin(), local.end());
        remoteKey.assign(remote.begin(), remote.end());
        remoteCertPem = pem;
        if (onConnectedHook) {
            onConnectedHook();
        }
    }
    void onDtlsFailed() override { ++failed; }
    void onDtlsClosed() override { ++closed; }
    void sendDtlsData(const uint8_t* data, size_t len) override {
        maxDatagram = std::max(maxDatagram, len);
        ++sent;
        if (dropping) {
            ++dropped;
            return;
        }
        outbox.emplace_back(data, data + len);
    }
    void onDtlsApplicationData(const uint8_t* data, size_t len) override {
        received.emplace_back(reinterpret_cast<const char*>(data), len);
        if (onDataHook) {
            onDataHook();
        }
    }
    void startTimer(uint64_t ms) override {
        timerMs = ms;
        ++timerStarts;
    }
    void stopTimer() override {
        timerMs.reset();
        ++timerStops;
    }

    std::deque<std::vector<uint8_t>> outbox;
    // While set, whatever the transport sends is lost.
    bool dropping = false;
    size_t dropped = 0;
    size_t sent = 0;
    size_t maxDatagram = 0;
    int connecting = 0;
    int connected = 0;
    int failed = 0;
    int closed = 0;
    std::optional<SrtpProfile> profile;
    std::vector<uint8_t> localKey;
    std::vector<uint8_t> remoteKey;
    std::string remoteCertPem;
    std::vector<std::string> received;
    // The pending timer, as the owner's libuv timer would hold it.
    std::optional<uint64_t> timerMs;
    int timerStarts = 0;
    int timerStops = 0;
    std::function<void()> onConnectedHook;
    std::function<void()> onDataHook;
};

// A client and a server, each expecting the other's sha-256 fingerprint
// unless told otherwise.
struct Peers {
    Peers(std::shared_ptr<const DtlsContext> clientContext,
          std::shared_ptr<const DtlsContext> serverContext, bool setFingerprints = true)
        : client(clientContext, clientEnd), server(serverContext, serverEnd) {
        if (setFingerprints) {
            client.setRemoteFingerprint(
                FingerprintAlgorithm::Sha256,
                serverContext->certificate().fingerprint(FingerprintAlgorithm::Sha256));
            server.setRemoteFingerprint(
                FingerprintAlgorithm::Sha256,
                clientContext->certificate().fingerprint(FingerprintAlgorithm::Sha256));
        }
    }

    // Delivers what one side has queued to the other; false if nothing was.
    static bool deliver(Endpoint& from, DtlsTransport& to) {
        const bool any = !from.outbox.empty();
        while (!from.outbox.empty()) {
            std::vector<uint8_t> datagram = std::move(from.outbox.front());
            from.outbox.pop_front();
            to.processDtlsData(datagram.data(), datagram.size());
        }
        return any;
    }
    bool toServer() { return deliver(clientEnd, server); }
    bool toClient() { return deliver(serverEnd, client); }

    // Delivers queued datagrams both ways until nothing moves.
    void pump() {
        for (int round = 0; round < 1000; ++round) {
            const bool sent = toServer();
            if (!toClient() && !sent) {
                return;
            }
        }
    }

    void connect() {
        server.run(Role::Server);
        client.run(Role::Client);
        pump();
    }

    Endpoint clientEnd;
    Endpoint serverEnd;
    DtlsTransport client;
    DtlsTransport server;
};

// Waits out the endpoint's pending timer, as the event loop would, then
// fires it.
inline void fireTimer(Endpoint& end, DtlsTransport& transport) {
    if (end.timerMs) {
        std::this_thread::sleep_for(std::chrono::milliseconds(*end.timerMs + 2));
    }
    end.timerMs.reset();
    transport.handleTimeout();
}

} // namespace sfu::dtls::test
