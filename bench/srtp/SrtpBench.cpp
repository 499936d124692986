// Cost of SRTP on the media path: protecting a 1,200-byte video packet per
// crypto suite (what every forwarded packet costs), and protect + unprotect
// (what a packet costs end to end; unprotect alone is the difference), for
// our SrtpSession (BM_Ours*) and, side by side, libsrtp2's (BM_Libsrtp*,
// the test oracle). The floor: OpenSSL's own AES-128-CTR + HMAC-SHA1 and
// AES-GCM on the same bytes with nothing around them (BM_OpenSsl*).
// malloc, calloc and realloc are counted for the whole process, libsrtp,
// OpenSSL and its providers included; allocs_per_iter must stay 0 for
// every SRTP session. BM_OpenSslHmacSha1EvpMac shows why HMAC-SHA1 runs on
// a precomputed SHA1 state instead of re-initialising an EVP_MAC per
// packet: that allocates twice a packet in OpenSSL 3.0 and is no faster.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "protocol/srtp/CryptoSuite.hpp"
#include "protocol/srtp/SrtpSession.hpp"
#include "srtp/LibsrtpSession.hpp"

#include <array>
#include <atomic>
#include <benchmark/benchmark.h>
#include <cstring>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <srtp2/srtp.h>
#include <vector>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* memory, size_t size);
}

namespace {

std::atomic<size_t> allocationCount{0};

} // namespace

extern "C" void* malloc(size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(size);
}

extern "C" void* calloc(size_t count, size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(count, size);
}

extern "C" void* realloc(void* memory, size_t size) {
    allocationCount.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(memory, size);
}

using namespace sfu::srtp;

namespace {

constexpr size_t kPacketLength = 1200;

std::vector<uint8_t> key(CryptoSuite suite) {
    std::vector<uint8_t> k(keyLength(suite));
    for (size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<uint8_t>(i * 31 + 7);
    }
    return k;
}

// A 1,200-byte RTP packet with one header extension, as a video sender
// produces.
void fillPacket(uint8_t* p, uint16_t seq) {
    const uint8_t header[] = {0x90, 0x60, 0,    0,    0, 0, 0x10, 0,    0x12, 0x34,
                              0x56, 0x78, 0xbe, 0xde, 0, 1, 0x10, 0xab, 0,    0};
    std::memcpy(p, header, sizeof(header));
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    for (size_t i = sizeof(header); i < kPacketLength; ++i) {
        p[i] = static_cast<uint8_t>(i);
    }
}

void reportAllocations(benchmark::State& state, size_t before) {
    state.counters["allocs_per_iter"] =
        benchmark::Counter(static_cast<double>(allocationCount.load() - before) /
                           static_cast<double>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPacketLength));
}

template <typename Session>
void BM_ProtectRtp(benchmark::State& state) {
    const auto suite = static_cast<CryptoSuite>(state.range(0));
    state.SetLabel(std::string(cryptoSuiteName(suite)));
    Session out(Direction::Outbound, suite, key(suite));
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    uint16_t seq = 0;
    // The first packet sets up the stream for the SSRC: not per packet.
    fillPacket(buffer.data(), seq++);
    size_t len = kPacketLength;
    out.protectRtp(buffer.data(), len, buffer.size());
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        // The sequence number advances as in a real stream; rewriting it
        // alone keeps the copy out of the measurement.
        buffer[2] = static_cast<uint8_t>(seq >> 8);
        buffer[3] = static_cast<uint8_t>(seq);
        ++seq;
        len = kPacketLength;
        if (!out.protectRtp(buffer.data(), len, buffer.size())) {
            state.SkipWithError("protect failed");
            break;
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
}

template <typename Session>
void BM_ProtectUnprotectRtp(benchmark::State& state) {
    const auto suite = static_cast<CryptoSuite>(state.range(0));
    state.SetLabel(std::string(cryptoSuiteName(suite)));
    Session out(Direction::Outbound, suite, key(suite));
    Session in(Direction::Inbound, suite, key(suite));
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    uint16_t seq = 0;
    fillPacket(buffer.data(), seq++);
    size_t len = kPacketLength;
    out.protectRtp(buffer.data(), len, buffer.size());
    in.unprotectRtp(buffer.data(), len);
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        // Unprotecting restores the plaintext, so only the sequence number
        // needs to change between rounds.
        buffer[2] = static_cast<uint8_t>(seq >> 8);
        buffer[3] = static_cast<uint8_t>(seq);
        ++seq;
        len = kPacketLength;
        if (!out.protectRtp(buffer.data(), len, buffer.size()) ||
            !in.unprotectRtp(buffer.data(), len)) {
            state.SkipWithError("round trip failed");
            break;
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
}

void suites(benchmark::internal::Benchmark* b) {
    for (const CryptoSuite suite : kAllCryptoSuites) {
        b->Arg(static_cast<int64_t>(suite));
    }
}

// The floor for the AES-CM suites: what the packet needs of OpenSSL alone,
// AES-128-CTR over the payload and HMAC-SHA1 over the packet and a ROC,
// keys set up once, HMAC from its precomputed inner and outer states.
constexpr size_t kHeaderLength = 20;

void BM_OpenSslAesCtrHmacSha1(benchmark::State& state) {
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    fillPacket(buffer.data(), 0);
    const std::array<uint8_t, 16> aesKey{1, 2, 3};
    std::array<uint8_t, 16> iv{4, 5, 6};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, aesKey.data(), iv.data());
    SHA_CTX inner;
    SHA_CTX outer;
    std::array<uint8_t, 64> pad;
    pad.fill(0x36);
    SHA1_Init(&inner);
    SHA1_Update(&inner, pad.data(), pad.size());
    pad.fill(0x5c);
    SHA1_Init(&outer);
    SHA1_Update(&outer, pad.data(), pad.size());
    const uint8_t roc[4] = {};
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        ++iv[13];
        int outLength = 0;
        EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data());
        EVP_EncryptUpdate(ctx, buffer.data() + kHeaderLength, &outLength,
                          buffer.data() + kHeaderLength,
                          static_cast<int>(kPacketLength - kHeaderLength));
        SHA_CTX hash = inner;
        SHA1_Update(&hash, buffer.data(), kPacketLength);
        SHA1_Update(&hash, roc, sizeof(roc));
        uint8_t digest[SHA_DIGEST_LENGTH];
        SHA1_Final(digest, &hash);
        hash = outer;
        SHA1_Update(&hash, digest, sizeof(digest));
        SHA1_Final(digest, &hash);
        std::memcpy(buffer.data() + kPacketLength, digest, 10);
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
    EVP_CIPHER_CTX_free(ctx);
}

// HMAC-SHA1 alone, the two ways OpenSSL 3 offers with a fixed key: an
// EVP_MAC re-initialised per packet, and the precomputed SHA1 states.
void BM_OpenSslHmacSha1EvpMac(benchmark::State& state) {
    alignas(16) std::array<uint8_t, kPacketLength> buffer;
    fillPacket(buffer.data(), 0);
    const std::array<uint8_t, 20> macKey{7, 8, 9};
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    char digestName[] = "SHA1";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digestName, 0),
        OSSL_PARAM_construct_end()};
    EVP_MAC_init(ctx, macKey.data(), macKey.size(), params);
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        uint8_t tag[EVP_MAX_MD_SIZE];
        size_t tagLength = 0;
        EVP_MAC_init(ctx, nullptr, 0, nullptr);
        EVP_MAC_update(ctx, buffer.data(), buffer.size());
        EVP_MAC_final(ctx, tag, &tagLength, sizeof(tag));
        benchmark::DoNotOptimize(tag);
    }
    reportAllocations(state, before);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

void BM_OpenSslHmacSha1Precomputed(benchmark::State& state) {
    alignas(16) std::array<uint8_t, kPacketLength> buffer;
    fillPacket(buffer.data(), 0);
    SHA_CTX inner;
    SHA_CTX outer;
    std::array<uint8_t, 64> pad;
    pad.fill(0x36);
    SHA1_Init(&inner);
    SHA1_Update(&inner, pad.data(), pad.size());
    pad.fill(0x5c);
    SHA1_Init(&outer);
    SHA1_Update(&outer, pad.data(), pad.size());
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        SHA_CTX hash = inner;
        SHA1_Update(&hash, buffer.data(), buffer.size());
        uint8_t digest[SHA_DIGEST_LENGTH];
        SHA1_Final(digest, &hash);
        hash = outer;
        SHA1_Update(&hash, digest, sizeof(digest));
        SHA1_Final(digest, &hash);
        benchmark::DoNotOptimize(digest);
    }
    reportAllocations(state, before);
}

// The floor for the AEAD suites: AES-GCM with the header as AAD, the
// payload encrypted, the tag taken; key set once, a new IV per packet.
void BM_OpenSslAesGcm(benchmark::State& state) {
    const bool aes256 = state.range(0) == 256;
    state.SetLabel(aes256 ? "AES-256-GCM" : "AES-128-GCM");
    alignas(16) std::array<uint8_t, kPacketLength + kMaxTrailerLength> buffer;
    fillPacket(buffer.data(), 0);
    const std::array<uint8_t, 32> aesKey{1, 2, 3};
    std::array<uint8_t, 12> iv{4, 5, 6};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, aes256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, aesKey.data(),
                       iv.data());
    const size_t before = allocationCount.load();
    for (auto _ : state) {
        ++iv[11];
        int outLength = 0;
        EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data());
        EVP_EncryptUpdate(ctx, nullptr, &outLength, buffer.data(), kHeaderLength);
        EVP_EncryptUpdate(ctx, buffer.data() + kHeaderLength, &outLength,
                          buffer.data() + kHeaderLength,
                          static_cast<int>(kPacketLength - kHeaderLength));
        EVP_EncryptFinal_ex(ctx, buffer.data() + kPacketLength, &outLength);
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, buffer.data() + kPacketLength);
        benchmark::DoNotOptimize(buffer.data());
    }
    reportAllocations(state, before);
    EVP_CIPHER_CTX_free(ctx);
}

using oracle::LibsrtpSession;

BENCHMARK(BM_ProtectRtp<SrtpSession>)->Name("BM_OursProtectRtp")->Apply(suites);
BENCHMARK(BM_ProtectRtp<LibsrtpSession>)->Name("BM_LibsrtpProtectRtp")->Apply(suites);
BENCHMARK(BM_OpenSslAesCtrHmacSha1);
BENCHMARK(BM_OpenSslAesGcm)->Arg(128)->Arg(256);
BENCHMARK(BM_ProtectUnprotectRtp<SrtpSession>)->Name("BM_OursProtectUnprotectRtp")->Apply(suites);
BENCHMARK(BM_ProtectUnprotectRtp<LibsrtpSession>)
    ->Name("BM_LibsrtpProtectUnprotectRtp")
    ->Apply(suites);
BENCHMARK(BM_OpenSslHmacSha1EvpMac);
BENCHMARK(BM_OpenSslHmacSha1Precomputed);

} // namespace

int main(int argc, char** argv) {
    if (srtp_init() != srtp_err_status_ok) {
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    srtp_shutdown();
    return 0;
}
