#include "protocol/dtls/DtlsTransport.hpp"

#include "OpenSslUtil.hpp"
#include "utils/Errors.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <sys/time.h>

namespace sfu::dtls {

namespace detail {

// The datagram interface between OpenSSL and the transport. OpenSSL reads
// the datagram being processed (once, whole, as from a socket) and writes
// datagrams, which the transport sends once OpenSSL returns. A memory BIO
// would lose datagram boundaries both ways.
struct DtlsIo {
    const uint8_t* in = nullptr;
    size_t inLength = 0;
    // Datagrams written back to back, and where each one ends.
    std::vector<uint8_t> out;
    std::vector<size_t> outEnds;
};

} // namespace detail

namespace {

using detail::DtlsIo;

constexpr size_t kRecordHeaderLength = 13;
// RFC 6347 4.1: a record's ciphertext is at most 2^14 + 2048 bytes.
constexpr size_t kMaxRecordLength = 16384 + 2048;
// Nothing longer fits in a UDP datagram.
constexpr size_t kMaxDatagramLength = 65535;
constexpr uint8_t kContentTypeChangeCipherSpec = 20;
// Heartbeat, the last content type DTLS 1.2 defines.
constexpr uint8_t kContentTypeHeartbeat = 24;
constexpr uint8_t kDtlsMajorVersion = 0xfe;

// RFC 5764 4.2.
constexpr char kSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";

// Retransmission schedule: 100 ms, doubling, at most 4 s. RFC 6347's 1 s
// initial value would make a single lost ClientHello cost a second of call
// set-up; WebRTC stacks start much lower. OpenSSL gives up after 12
// timeouts, about 30 s.
constexpr unsigned int kInitialTimeoutUs = 100'000;
constexpr unsigned int kMaxTimeoutUs = 4'000'000;

unsigned int nextTimeoutUs(SSL* /*ssl*/, unsigned int previousUs) {
    if (previousUs == 0) {
        return kInitialTimeoutUs;
    }
    return previousUs >= kMaxTimeoutUs / 2 ? kMaxTimeoutUs : previousUs * 2;
}

DtlsIo* ioOf(BIO* bio) {
    return static_cast<DtlsIo*>(BIO_get_data(bio));
}

int bioWrite(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    DtlsIo* io = ioOf(bio);
    if (io == nullptr || data == nullptr || len <= 0) {
        return 0;
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    io->out.insert(io->out.end(), bytes, bytes + len);
    io->outEnds.push_back(io->out.size());
    return len;
}

int bioRead(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    DtlsIo* io = ioOf(bio);
    if (io == nullptr || io->in == nullptr || data == nullptr || size <= 0) {
        // Nothing yet: OpenSSL reports SSL_ERROR_WANT_READ and waits.
        BIO_set_retry_read(bio);
        return -1;
    }
    // A datagram longer than the room given is truncated, as recv() does.
    const size_t length = std::min(io->inLength, static_cast<size_t>(size));
    std::memcpy(data, io->in, length);
    io->in = nullptr;
    io->inLength = 0;
    return static_cast<int>(length);
}

long bioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        // OpenSSL flushes after each flight and fails the handshake unless
        // this succeeds; writes go out in flush() anyway.
        return 1;
    case BIO_CTRL_PENDING: {
        const DtlsIo* io = ioOf(bio);
        return io != nullptr && io->in != nullptr ? static_cast<long>(io->inLength) : 0;
    }
    case BIO_CTRL_WPENDING:
        // Every write is a datagram of its own, nothing waits to share one.
        return 0;
    default:
        // Socket queries (peer address, MTU, receive timeouts) have no
        // meaning here; 0 tells OpenSSL so.
        return 0;
    }
}

int bioCreate(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

int bioDestroy(BIO* /*bio*/) {
    // The DtlsIo belongs to the transport.
    return 1;
}

struct BioMethodDeleter {
    void operator()(BIO_METHOD* method) const { BIO_meth_free(method); }
};

const BIO_METHOD* bioMethod() {
    static const std::unique_ptr<BIO_METHOD, BioMethodDeleter> method = [] {
        std::unique_ptr<BIO_METHOD, BioMethodDeleter> m(
            BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sfu-dtls"));
        if (!m || BIO_meth_set_write(m.get(), bioWrite) != 1 ||
            BIO_meth_set_read(m.get(), bioRead) != 1 || BIO_meth_set_ctrl(m.get(), bioCtrl) != 1 ||
            BIO_meth_set_create(m.get(), bioCreate) != 1 ||
            BIO_meth_set_destroy(m.get(), bioDestroy) != 1) {
            detail::throwOpenSslError("cannot create the DTLS BIO method");
        }
        return m;
    }();
    return method.get();
}

// Whether the datagram is a sequence of complete DTLS records (RFC 6347
// 4.1) with content types DTLS 1.2 knows. OpenSSL would drop anything else
// silently; checking first lets us count it and spares OpenSSL the work.
// The smallest protected record (epoch 1 and later) each suite can produce:
// AES-GCM adds an 8-byte explicit nonce and a 16-byte tag, ChaCha20-Poly1305
// a 16-byte tag. Anything shorter is forged or broken and is dropped here,
// as RFC 6347 4.1.2.7 asks, because OpenSSL 3.0 tears the connection down
// on some of them.
constexpr size_t kMinAeadRecordLength = 16;
constexpr size_t kMinGcmRecordLength = 24;

size_t minProtectedRecordLength(const SSL* ssl) {
    const SSL_CIPHER* cipher = ssl != nullptr ? SSL_get_current_cipher(ssl) : nullptr;
    if (cipher == nullptr) {
        return kMinAeadRecordLength;
    }
    const int nid = SSL_CIPHER_get_cipher_nid(cipher);
    return nid == NID_aes_128_gcm || nid == NID_aes_256_gcm ? kMinGcmRecordLength
                                                            : kMinAeadRecordLength;
}

bool wellFormed(const uint8_t* data, size_t len, size_t minProtectedLength) {
    if (data == nullptr || len == 0 || len > kMaxDatagramLength) {
        return false;
    }
    size_t offset = 0;
    while (offset < len) {
        if (len - offset < kRecordHeaderLength) {
            return false;
        }
        const uint8_t* record = data + offset;
        if (record[0] < kContentTypeChangeCipherSpec || record[0] > kContentTypeHeartbeat ||
            record[1] != kDtlsMajorVersion) {
            return false;
        }
        const size_t length = static_cast<size_t>(record[11]) << 8 | record[12];
        if (length > kMaxRecordLength || length > len - offset - kRecordHeaderLength) {
            return false;
        }
        const bool protectedRecord = record[3] != 0 || record[4] != 0;
        if (protectedRecord && length < minProtectedLength) {
            return false;
        }
        offset += kRecordHeaderLength + length;
    }
    return true;
}

// Wipes key material when it goes out of scope.
struct Cleanser {
    std::array<std::vector<uint8_t>*, 3> buffers;
    ~Cleanser() {
        for (std::vector<uint8_t>* buffer : buffers) {
            OPENSSL_cleanse(buffer->data(), buffer->size());
        }
    }
};

std::string certificatePem(X509* certificate) {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
        return {};
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

} // namespace

std::string_view roleName(Role role) {
    switch (role) {
    case Role::Auto:
        return "auto";
    case Role::Client:
        return "client";
    case Role::Server:
        return "server";
    }
    return "";
}

std::optional<Role> parseRole(std::string_view name) {
    for (const Role role : {Role::Auto, Role::Client, Role::Server}) {
        if (roleName(role) == name) {
            return role;
        }
    }
    return std::nullopt;
}

std::string_view stateName(State state) {
    switch (state) {
    case State::New:
        return "new";
    case State::Connecting:
        return "connecting";
    case State::Connected:
        return "connected";
    case State::Failed:
        return "failed";
    case State::Closed:
        return "closed";
    }
    return "";
}

Role resolveRole(Role localRole, std::optional<Role> remoteRole) {
    if (!remoteRole) {
        return localRole == Role::Auto ? Role::Server : localRole;
    }
    return *remoteRole == Role::Client ? Role::Server : Role::Client;
}

DtlsTransport::DtlsTransport(std::shared_ptr<const DtlsContext> context, Listener& listener)
    : context_(std::move(context)), listener_(listener), io_(std::make_unique<detail::DtlsIo>()) {
    if (!context_) {
        throw sfu::TypeError("DtlsTransport needs a DtlsContext");
    }
    // Fails now, at creation, rather than at the first handshake.
    bioMethod();
}

DtlsTransport::~DtlsTransport() {
    SSL_free(ssl_);
}

bool DtlsTransport::isDtls(const uint8_t* data, size_t len) {
    return data != nullptr && len >= kRecordHeaderLength && data[0] >= 20 && data[0] <= 63;
}

void DtlsTransport::run(Role role) {
    if (role != Role::Client && role != Role::Server) {
        throw sfu::TypeError("DTLS role to run must be client or server");
    }
    if (role_ == role && (state_ == State::Connecting || state_ == State::Connected)) {
        return;
    }
    discardSsl();
    role_.reset();

    ERR_clear_error();
    SSL* ssl = SSL_new(context_->sslCtx());
    if (ssl == nullptr) {
        detail::throwOpenSslError("SSL_new() failed");
    }
    BIO* bio = BIO_new(bioMethod());
    if (bio == nullptr) {
        SSL_free(ssl);
        detail::throwOpenSslError("BIO_new() failed");
    }
    BIO_set_data(bio, io_.get());
    // One BIO for both directions: SSL_set_bio then takes one reference.
    SSL_set_bio(ssl, bio, bio);
    // Returns the MTU set, 0 when refused.
    if (SSL_set_mtu(ssl, static_cast<long>(kMtu)) <= 0) {
        SSL_free(ssl);
        detail::throwOpenSslError("SSL_set_mtu() failed");
    }
    DTLS_set_timer_cb(ssl, nextTimeoutUs);
    if (role == Role::Client) {
        SSL_set_connect_state(ssl);
    } else {
        SSL_set_accept_state(ssl);
    }
    ssl_ = ssl;
    role_ = role;
    state_ = State::Connecting;
    listener_.onDtlsConnecting();
    // A server speaks when the ClientHello arrives.
    if (role == Role::Server || ssl_ != ssl) {
        return;
    }
    ERR_clear_error();
    const int ret = SSL_do_handshake(ssl_);
    flush();
    if (checkResult(ret)) {
        updateTimer();
    }
}

void DtlsTransport::setRemoteFingerprint(FingerprintAlgorithm algorithm, std::string value) {
    auto existing = std::find_if(remoteFingerprints_.begin(), remoteFingerprints_.end(),
                                 [&](const Fingerprint& f) { return f.algorithm == algorithm; });
    if (existing != remoteFingerprints_.end()) {
        existing->value = std::move(value);
    } else {
        remoteFingerprints_.push_back({algorithm, std::move(value)});
    }
    // The handshake may have finished before signalling delivered this.
    if (ssl_ != nullptr && handshakeDone_ && state_ == State::Connecting) {
        completeHandshake();
    }
}

void DtlsTransport::setRemoteFingerprint(std::string_view algorithm, std::string value) {
    const auto parsed = parseFingerprintAlgorithm(algorithm);
    if (!parsed) {
        throw sfu::TypeError("invalid fingerprint algorithm '" + std::string(algorithm) + "'");
    }
    setRemoteFingerprint(*parsed, std::move(value));
}

void DtlsTransport::setRemoteFingerprints(std::vector<Fingerprint> fingerprints) {
    remoteFingerprints_ = std::move(fingerprints);
    if (!remoteFingerprints_.empty() && ssl_ != nullptr && handshakeDone_ &&
        state_ == State::Connecting) {
        completeHandshake();
    }
}

void DtlsTransport::processDtlsData(const uint8_t* data, size_t len) {
    if (ssl_ == nullptr || (state_ != State::Connecting && state_ != State::Connected)) {
        ++counters_.ignoredDatagrams;
        return;
    }
    if (!wellFormed(data, len, minProtectedRecordLength(ssl_))) {
        ++counters_.invalidDatagrams;
        return;
    }
    ++counters_.datagramsReceived;
    counters_.bytesReceived += len;
    io_->in = data;
    io_->inLength = len;

    // One datagram may carry several records of application data; SSL_read
    // returns one at a time.
    std::array<uint8_t, kMaxApplicationDataLength> plaintext;
    for (;;) {
        ERR_clear_error();
        const int ret = SSL_read(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
        flush();
        if (!checkResult(ret)) {
            return;
        }
        if (ret <= 0) {
            break;
        }
        // Until the fingerprint matched, the data may come from anybody.
        if (state_ != State::Connected) {
            ++counters_.droppedApplicationData;
            continue;
        }
        listener_.onDtlsApplicationData(plaintext.data(), static_cast<size_t>(ret));
        if (ssl_ == nullptr) {
            // The listener closed us.
            return;
        }
    }
    // Whatever OpenSSL left unread of a datagram is not to be read later as
    // if it were the next one.
    io_->in = nullptr;
    io_->inLength = 0;
    updateTimer();
}

bool DtlsTransport::sendApplicationData(const uint8_t* data, size_t len) {
    if (state_ != State::Connected || ssl_ == nullptr || data == nullptr || len == 0 ||
        len > kMaxApplicationDataLength) {
        return false;
    }
    ERR_clear_error();
    const int ret = SSL_write(ssl_, data, static_cast<int>(len));
    flush();
    if (ret <= 0) {
        // Not torn down here: this may run inside onDtlsApplicationData(),
        // within SSL_read. A broken association shows on the next read.
        lastError_ = detail::takeOpenSslError("SSL_write() failed");
        return false;
    }
    return static_cast<size_t>(ret) == len;
}

void DtlsTransport::handleTimeout() {
    // The owner's one-shot timer fired, so it is no longer pending.
    timerRunning_ = false;
    // Once the handshake is done nothing is retransmitted on a timer (the
    // last flight is resent when the peer repeats its own), and OpenSSL
    // mishandles a timeout then (openssl/openssl#7998).
    if (ssl_ == nullptr || state_ != State::Connecting || handshakeDone_) {
        return;
    }
    ERR_clear_error();
    const long ret = DTLSv1_handle_timeout(ssl_);
    flush();
    if (ret < 0) {
        fail(detail::takeOpenSslError("DTLS handshake timed out"), false);
        return;
    }
    if (ret > 0) {
        ++counters_.retransmissions;
    }
    updateTimer();
}

void DtlsTransport::close() {
    if (ssl_ != nullptr && handshakeDone_ &&
        (state_ == State::Connecting || state_ == State::Connected)) {
        ERR_clear_error();
        // Queues close_notify; 0 only means the peer's has not come yet,
        // which DTLS does not wait for.
        SSL_shutdown(ssl_);
        flush();
        ERR_clear_error();
    }
    discardSsl();
    role_.reset();
    state_ = State::Closed;
}

void DtlsTransport::discardSsl() {
    stopTimer();
    SSL_free(ssl_);
    ssl_ = nullptr;
    handshakeDone_ = false;
    io_->in = nullptr;
    io_->inLength = 0;
    io_->out.clear();
    io_->outEnds.clear();
}

bool DtlsTransport::checkResult(int ret) {
    const int error = SSL_get_error(ssl_, ret);
    if (error == SSL_ERROR_SSL || error == SSL_ERROR_SYSCALL) {
        std::string reason = detail::takeOpenSslError("DTLS error");
        if (state_ == State::Connected) {
            ended(std::move(reason));
        } else {
            fail(std::move(reason), false);
        }
        return false;
    }
    if ((SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0) {
        ended("close_notify received");
        return false;
    }
    if (!handshakeDone_ && SSL_is_init_finished(ssl_)) {
        handshakeDone_ = true;
        stopTimer();
        if (!remoteFingerprints_.empty()) {
            return completeHandshake();
        }
    }
    return true;
}

bool DtlsTransport::completeHandshake() {
    detail::X509Ptr peer(SSL_get1_peer_certificate(ssl_));
    if (!peer) {
        fail("the peer sent no certificate", true);
        return false;
    }
    for (const Fingerprint& expected : remoteFingerprints_) {
        std::string actual;
        try {
            actual = computeFingerprint(peer.get(), expected.algorithm);
        } catch (const sfu::Error& error) {
            fail(error.what(), true);
            return false;
        }
        if (!fingerprintValuesEqual(actual, expected.value)) {
            fail("the peer certificate's " +
                     std::string(fingerprintAlgorithmName(expected.algorithm)) +
                     " fingerprint does not match",
                 true);
            return false;
        }
    }

    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
    const auto profile =
        selected != nullptr ? detail::srtpProfileFromId(selected->id) : std::nullopt;
    if (!profile) {
        // WebRTC needs SRTP even for a data-only transport (as mediasoup).
        fail("no SRTP profile negotiated", true);
        return false;
    }

    const size_t keyLength = srtpMasterKeyLength(*profile);
    const size_t saltLength = srtpMasterSaltLength(*profile);
    std::vector<uint8_t> material(2 * (keyLength + saltLength));
    std::vector<uint8_t> clientKeying;
    std::vector<uint8_t> serverKeying;
    // Keys live on only where the listener copies them, even if it throws.
    const Cleanser cleanser{{&material, &clientKeying, &serverKeying}};
    ERR_clear_error();
    if (SSL_export_keying_material(ssl_, material.data(), material.size(), kSrtpExporterLabel,
                                   std::strlen(kSrtpExporterLabel), nullptr, 0, 0) != 1) {
        fail(detail::takeOpenSslError("SSL_export_keying_material() failed"), true);
        return false;
    }
    // RFC 5764 4.2: client key, server key, client salt, server salt.
    const uint8_t* clientKey = material.data();
    const uint8_t* serverKey = clientKey + keyLength;
    const uint8_t* clientSalt = serverKey + keyLength;
    const uint8_t* serverSalt = clientSalt + saltLength;
    clientKeying.assign(clientKey, clientKey + keyLength);
    clientKeying.insert(clientKeying.end(), clientSalt, clientSalt + saltLength);
    serverKeying.assign(serverKey, serverKey + keyLength);
    serverKeying.insert(serverKeying.end(), serverSalt, serverSalt + saltLength);
    const bool client = role_ == Role::Client;

    const std::string pem = certificatePem(peer.get());
    state_ = State::Connected;
    listener_.onDtlsConnected(*profile, client ? clientKeying : serverKeying,
                              client ? serverKeying : clientKeying, pem);
    // The listener may have closed us.
    return ssl_ != nullptr && state_ == State::Connected;
}

void DtlsTransport::fail(std::string reason, bool notifyPeer) {
    // Without close_notify a peer that finished its side would stay
    // connected until ICE consent expires.
    if (notifyPeer && ssl_ != nullptr && handshakeDone_) {
        ERR_clear_error();
        SSL_shutdown(ssl_);
        flush();
        ERR_clear_error();
    }
    lastError_ = std::move(reason);
    discardSsl();
    role_.reset();
    state_ = State::Failed;
    listener_.onDtlsFailed();
}

void DtlsTransport::ended(std::string reason) {
    if (state_ != State::Connected) {
        fail(std::move(reason), false);
        return;
    }
    lastError_ = std::move(reason);
    discardSsl();
    role_.reset();
    state_ = State::Closed;
    listener_.onDtlsClosed();
}

void DtlsTransport::flush() {
    if (io_->outEnds.empty()) {
        return;
    }
    // Take the writes first: sending may lead to more being written.
    std::vector<uint8_t> out;
    std::vector<size_t> ends;
    out.swap(io_->out);
    ends.swap(io_->outEnds);

    // Each write is one datagram, as on a UDP socket: OpenSSL already fills
    // datagrams up to the MTU itself, and a retransmission written
    // separately must not share a datagram with the next flight.
    size_t start = 0;
    for (const size_t end : ends) {
        ++counters_.datagramsSent;
        counters_.bytesSent += end - start;
        listener_.sendDtlsData(out.data() + start, end - start);
        start = end;
    }

    // Hand the buffers back to reuse their capacity.
    if (io_->outEnds.empty()) {
        out.clear();
        ends.clear();
        io_->out.swap(out);
        io_->outEnds.swap(ends);
    }
}

void DtlsTransport::updateTimer() {
    if (ssl_ == nullptr || state_ != State::Connecting || handshakeDone_) {
        stopTimer();
        return;
    }
    timeval remaining{};
    if (DTLSv1_get_timeout(ssl_, &remaining) != 1) {
        // Nothing in flight that could need retransmitting.
        stopTimer();
        return;
    }
    // Rounded up: a timer firing early would find nothing due yet.
    const uint64_t ms = static_cast<uint64_t>(remaining.tv_sec) * 1000 +
                        (static_cast<uint64_t>(remaining.tv_usec) + 999) / 1000;
    timerRunning_ = true;
    listener_.startTimer(ms);
}

void DtlsTransport::stopTimer() {
    if (timerRunning_) {
        timerRunning_ = false;
        listener_.stopTimer();
    }
}

} // namespace sfu::dtls
