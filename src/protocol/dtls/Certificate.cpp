#include "protocol/dtls/Certificate.hpp"

#include "OpenSslUtil.hpp"
#include "utils/Errors.hpp"
#include "utils/Random.hpp"

#include <array>
#include <climits>
#include <fstream>
#include <iterator>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace sfu::dtls {

using detail::BignumPtr;
using detail::BioPtr;
using detail::PkeyPtr;
using detail::throwOpenSslError;
using detail::X509Ptr;

namespace {

constexpr long kSecondsPerDay = 24 * 60 * 60;

const EVP_MD* digestFor(FingerprintAlgorithm algorithm) {
    switch (algorithm) {
    case FingerprintAlgorithm::Sha1:
        return EVP_sha1();
    case FingerprintAlgorithm::Sha224:
        return EVP_sha224();
    case FingerprintAlgorithm::Sha256:
        return EVP_sha256();
    case FingerprintAlgorithm::Sha384:
        return EVP_sha384();
    case FingerprintAlgorithm::Sha512:
        return EVP_sha512();
    }
    return nullptr;
}

char lowerAscii(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Refuses encrypted keys instead of OpenSSL's default of prompting on the
// terminal, which would hang a worker started by a Node.js process.
int noPassphrase(char*, int, int, void*) {
    return 0;
}

std::string hex(const unsigned char* data, size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < len; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

std::vector<Fingerprint> computeFingerprints(const X509* x509) {
    std::vector<Fingerprint> fingerprints;
    for (const FingerprintAlgorithm algorithm : kAllFingerprintAlgorithms) {
        fingerprints.push_back({algorithm, computeFingerprint(x509, algorithm)});
    }
    return fingerprints;
}

std::string readFile(const std::string& path, const char* what) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw sfu::Error(std::string(what) + " '" + path + "' cannot be read");
    }
    std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) {
        throw sfu::Error(std::string(what) + " '" + path + "' cannot be read");
    }
    return content;
}

BioPtr memoryBio(std::string_view data) {
    if (data.size() > static_cast<size_t>(INT_MAX)) {
        throw sfu::Error("PEM data too large");
    }
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) {
        throwOpenSslError("BIO_new_mem_buf() failed");
    }
    return bio;
}

} // namespace

std::string_view fingerprintAlgorithmName(FingerprintAlgorithm algorithm) {
    switch (algorithm) {
    case FingerprintAlgorithm::Sha1:
        return "sha-1";
    case FingerprintAlgorithm::Sha224:
        return "sha-224";
    case FingerprintAlgorithm::Sha256:
        return "sha-256";
    case FingerprintAlgorithm::Sha384:
        return "sha-384";
    case FingerprintAlgorithm::Sha512:
        return "sha-512";
    }
    return "";
}

std::optional<FingerprintAlgorithm> parseFingerprintAlgorithm(std::string_view name) {
    for (const FingerprintAlgorithm algorithm : kAllFingerprintAlgorithms) {
        if (fingerprintAlgorithmName(algorithm) == name) {
            return algorithm;
        }
    }
    return std::nullopt;
}

std::string computeFingerprint(const X509* certificate, FingerprintAlgorithm algorithm) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (X509_digest(certificate, digestFor(algorithm), digest.data(), &length) != 1) {
        throwOpenSslError("X509_digest() failed");
    }
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string value;
    value.reserve(length * 3);
    for (unsigned int i = 0; i < length; ++i) {
        if (i > 0) {
            value += ':';
        }
        value += kDigits[digest[i] >> 4];
        value += kDigits[digest[i] & 0x0f];
    }
    return value;
}

bool fingerprintValuesEqual(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (lowerAscii(a[i]) != lowerAscii(b[i])) {
            return false;
        }
    }
    return true;
}

Certificate::Certificate(X509* x509, EVP_PKEY* privateKey, std::vector<Fingerprint> fingerprints)
    : x509_(x509), privateKey_(privateKey), fingerprints_(std::move(fingerprints)) {}

Certificate::~Certificate() {
    X509_free(x509_);
    EVP_PKEY_free(privateKey_);
}

std::shared_ptr<const Certificate> Certificate::generate() {
    // P-256 rather than RSA: every WebRTC stack supports it, and it is fast
    // to generate and to sign with.
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) {
        throwOpenSslError("cannot generate the DTLS private key");
    }
    X509Ptr x509(X509_new());
    if (!x509) {
        throwOpenSslError("X509_new() failed");
    }
    if (X509_set_version(x509.get(), X509_VERSION_3) != 1) {
        throwOpenSslError("X509_set_version() failed");
    }

    // A positive serial with 70 random bits: RFC 5280 wants it unique per
    // issuer, and each generated certificate is its own issuer.
    std::array<unsigned char, 9> serialBytes{};
    randomBytes(serialBytes);
    serialBytes[0] = static_cast<unsigned char>((serialBytes[0] & 0x3f) | 0x40);
    BignumPtr serial(BN_bin2bn(serialBytes.data(), static_cast<int>(serialBytes.size()), nullptr));
    if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x509.get()))) {
        throwOpenSslError("cannot set the certificate serial");
    }

    // A random common name, so nothing identifies the software or host.
    std::array<unsigned char, 8> cnBytes{};
    randomBytes(cnBytes);
    const std::string commonName = hex(cnBytes.data(), cnBytes.size());
    X509_NAME* name = X509_get_subject_name(x509.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(commonName.c_str()), -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(x509.get(), name) != 1) {
        throwOpenSslError("cannot set the certificate name");
    }

    // A day in the past tolerates a peer whose clock is behind ours.
    if (!X509_gmtime_adj(X509_getm_notBefore(x509.get()), -kSecondsPerDay) ||
        !X509_gmtime_adj(X509_getm_notAfter(x509.get()), 365 * kSecondsPerDay)) {
        throwOpenSslError("cannot set the certificate validity");
    }
    if (X509_set_pubkey(x509.get(), key.get()) != 1) {
        throwOpenSslError("X509_set_pubkey() failed");
    }
    if (X509_sign(x509.get(), key.get(), EVP_sha256()) <= 0) {
        throwOpenSslError("cannot sign the certificate");
    }
    std::vector<Fingerprint> fingerprints = computeFingerprints(x509.get());
    // new allocates before evaluating the arguments (C++17), so a throw
    // leaves both objects with their unique_ptr; a throwing shared_ptr
    // constructor deletes the Certificate, which frees them.
    return std::shared_ptr<const Certificate>(
        new Certificate(x509.release(), key.release(), std::move(fingerprints)));
}

std::shared_ptr<const Certificate> Certificate::fromPem(std::string_view certificatePem,
                                                        std::string_view privateKeyPem) {
    ERR_clear_error();
    BioPtr certificateBio = memoryBio(certificatePem);
    X509Ptr x509(PEM_read_bio_X509(certificateBio.get(), nullptr, noPassphrase, nullptr));
    if (!x509) {
        throw sfu::Error(detail::takeOpenSslError("not a PEM X.509 certificate"));
    }
    BioPtr keyBio = memoryBio(privateKeyPem);
    PkeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, noPassphrase, nullptr));
    if (!key) {
        throw sfu::Error(detail::takeOpenSslError("not an unencrypted PEM private key"));
    }
    if (X509_check_private_key(x509.get(), key.get()) != 1) {
        throw sfu::Error(
            detail::takeOpenSslError("the private key does not match the certificate"));
    }
    std::vector<Fingerprint> fingerprints = computeFingerprints(x509.get());
    return std::shared_ptr<const Certificate>(
        new Certificate(x509.release(), key.release(), std::move(fingerprints)));
}

std::shared_ptr<const Certificate> Certificate::fromPemFiles(const std::string& certificatePath,
                                                             const std::string& privateKeyPath) {
    const std::string certificatePem = readFile(certificatePath, "DTLS certificate file");
    const std::string privateKeyPem = readFile(privateKeyPath, "DTLS private key file");
    try {
        return fromPem(certificatePem, privateKeyPem);
    } catch (const sfu::Error& error) {
        throw sfu::Error("DTLS certificate '" + certificatePath + "' / key '" + privateKeyPath +
                         "': " + error.what());
    }
}

const std::string& Certificate::fingerprint(FingerprintAlgorithm algorithm) const {
    for (const Fingerprint& fingerprint : fingerprints_) {
        if (fingerprint.algorithm == algorithm) {
            return fingerprint.value;
        }
    }
    // Unreachable: the constructor's caller computes every algorithm.
    throw sfu::Error("no fingerprint for " + std::string(fingerprintAlgorithmName(algorithm)));
}

std::string Certificate::pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), x509_) != 1) {
        throwOpenSslError("PEM_write_bio_X509() failed");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
}

} // namespace sfu::dtls
