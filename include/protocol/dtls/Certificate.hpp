// The certificate and private key a DTLS endpoint presents, with its
// fingerprints in every algorithm a peer may ask for (RFC 8122), computed
// once. Either loaded from PEM or generated: ECDSA P-256, self-signed, as
// WebRTC endpoints use (RFC 8827 6.5).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <openssl/types.h>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::dtls {

enum class FingerprintAlgorithm : uint8_t { Sha1, Sha224, Sha256, Sha384, Sha512 };

inline constexpr std::array<FingerprintAlgorithm, 5> kAllFingerprintAlgorithms = {
    FingerprintAlgorithm::Sha1,   FingerprintAlgorithm::Sha224, FingerprintAlgorithm::Sha256,
    FingerprintAlgorithm::Sha384, FingerprintAlgorithm::Sha512,
};

// "sha-1", "sha-224", "sha-256", "sha-384", "sha-512": the hash function
// textual names of SDP and of mediasoup's dtlsParameters.
std::string_view fingerprintAlgorithmName(FingerprintAlgorithm algorithm);
// Exact, case-sensitive match of a name above, as mediasoup accepts them.
std::optional<FingerprintAlgorithm> parseFingerprintAlgorithm(std::string_view name);

struct Fingerprint {
    FingerprintAlgorithm algorithm;
    // Uppercase hex bytes separated by colons: "AB:CD:...".
    std::string value;
};

// The digest of the DER certificate formatted as Fingerprint::value. Throws
// sfu::Error if OpenSSL cannot compute it.
std::string computeFingerprint(const X509* certificate, FingerprintAlgorithm algorithm);

// Whether two fingerprint values are the same, ignoring the case of the hex
// digits (peers send lowercase or uppercase).
bool fingerprintValuesEqual(std::string_view a, std::string_view b);

class Certificate {
public:
    // A fresh ECDSA P-256 key and a self-signed X.509v3 certificate for it
    // with a random serial and common name, valid from a day ago (clock skew)
    // for a year. A worker generates one at start-up and shares it. Throws
    // sfu::Error if OpenSSL fails.
    static std::shared_ptr<const Certificate> generate();

    // Loads a PEM certificate and its PEM private key (unencrypted: nobody
    // is there to type a passphrase). Throws sfu::Error when a file cannot be
    // read, is not PEM of the right kind, or the key does not match.
    static std::shared_ptr<const Certificate> fromPemFiles(const std::string& certificatePath,
                                                           const std::string& privateKeyPath);
    static std::shared_ptr<const Certificate> fromPem(std::string_view certificatePem,
                                                      std::string_view privateKeyPem);

    ~Certificate();
    Certificate(const Certificate&) = delete;
    Certificate& operator=(const Certificate&) = delete;

    // OpenSSL's API takes these non-const; nothing here modifies them.
    X509* x509() const { return x509_; }
    EVP_PKEY* privateKey() const { return privateKey_; }

    // One per algorithm, in kAllFingerprintAlgorithms order.
    const std::vector<Fingerprint>& fingerprints() const { return fingerprints_; }
    const std::string& fingerprint(FingerprintAlgorithm algorithm) const;

    // The certificate in PEM.
    std::string pem() const;

private:
    // Takes ownership of both.
    Certificate(X509* x509, EVP_PKEY* privateKey, std::vector<Fingerprint> fingerprints);

    X509* x509_;
    EVP_PKEY* privateKey_;
    std::vector<Fingerprint> fingerprints_;
};

} // namespace sfu::dtls
