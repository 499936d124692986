#include "protocol/dtls/Certificate.hpp"

#include "protocol/dtls/DtlsContext.hpp"
#include "utils/Errors.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <regex>
#include <sstream>
#include <string>

using namespace sfu::dtls;

namespace {

size_t digestLength(FingerprintAlgorithm algorithm) {
    switch (algorithm) {
    case FingerprintAlgorithm::Sha1:
        return 20;
    case FingerprintAlgorithm::Sha224:
        return 28;
    case FingerprintAlgorithm::Sha256:
        return 32;
    case FingerprintAlgorithm::Sha384:
        return 48;
    case FingerprintAlgorithm::Sha512:
        return 64;
    }
    return 0;
}

// A scratch directory removed at the end of the test.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "sfu-dtls-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs a shell command quietly, returning false when it failed.
bool shell(const std::string& command) {
    return std::system((command + " 2>/dev/null").c_str()) == 0;
}

bool haveOpensslCli() {
    static const bool have = shell("openssl version >/dev/null");
    return have;
}

// `openssl x509 -fingerprint`'s value for the certificate file.
std::string cliFingerprint(const TempDir& dir, const std::string& cert, const char* digest) {
    const std::string out = dir.file("fingerprint.txt");
    if (!shell("openssl x509 -in " + cert + " -noout -fingerprint -" + digest + " > " + out)) {
        return {};
    }
    std::string line = readAll(out);
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
        return {};
    }
    line = line.substr(eq + 1);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    return line;
}

std::string privateKeyPem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(length));
    BIO_free(bio);
    return pem;
}

} // namespace

TEST(DtlsFingerprint, AlgorithmNames) {
    const std::array<const char*, 5> names = {"sha-1", "sha-224", "sha-256", "sha-384", "sha-512"};
    for (size_t i = 0; i < names.size(); ++i) {
        EXPECT_EQ(fingerprintAlgorithmName(kAllFingerprintAlgorithms[i]), names[i]);
        EXPECT_EQ(parseFingerprintAlgorithm(names[i]), kAllFingerprintAlgorithms[i]);
    }
    EXPECT_EQ(parseFingerprintAlgorithm("SHA-256"), std::nullopt);
    EXPECT_EQ(parseFingerprintAlgorithm("sha256"), std::nullopt);
    EXPECT_EQ(parseFingerprintAlgorithm("md5"), std::nullopt);
    EXPECT_EQ(parseFingerprintAlgorithm(""), std::nullopt);
}

TEST(DtlsFingerprint, ValuesCompareIgnoringCase) {
    EXPECT_TRUE(fingerprintValuesEqual("AB:CD:0F", "ab:cd:0f"));
    EXPECT_TRUE(fingerprintValuesEqual("", ""));
    EXPECT_FALSE(fingerprintValuesEqual("AB:CD:0F", "AB:CD:0E"));
    EXPECT_FALSE(fingerprintValuesEqual("AB:CD:0F", "AB:CD:0F:"));
    EXPECT_FALSE(fingerprintValuesEqual("AB:CD", "ABCD:"));
}

TEST(DtlsCertificate, GeneratedFingerprints) {
    const auto certificate = Certificate::generate();
    ASSERT_EQ(certificate->fingerprints().size(), 5u);
    for (size_t i = 0; i < kAllFingerprintAlgorithms.size(); ++i) {
        const FingerprintAlgorithm algorithm = kAllFingerprintAlgorithms[i];
        const Fingerprint& f = certificate->fingerprints()[i];
        EXPECT_EQ(f.algorithm, algorithm);
        EXPECT_EQ(certificate->fingerprint(algorithm), f.value);
        const size_t n = digestLength(algorithm);
        const std::regex format("([0-9A-F]{2}:){" + std::to_string(n - 1) + "}[0-9A-F]{2}");
        EXPECT_TRUE(std::regex_match(f.value, format)) << f.value;

        // The digest of the DER encoding, computed independently.
        unsigned char* der = nullptr;
        const int derLength = i2d_X509(certificate->x509(), &der);
        ASSERT_GT(derLength, 0);
        std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
        unsigned int digestLen = 0;
        const char* names[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
        ASSERT_EQ(EVP_Digest(der, static_cast<size_t>(derLength), digest.data(), &digestLen,
                             EVP_get_digestbyname(names[i]), nullptr),
                  1);
        OPENSSL_free(der);
        ASSERT_EQ(digestLen, n);
        char first[3];
        std::snprintf(first, sizeof(first), "%02X", digest[0]);
        char last[3];
        std::snprintf(last, sizeof(last), "%02X", digest[n - 1]);
        EXPECT_EQ(f.value.substr(0, 2), first);
        EXPECT_EQ(f.value.substr(f.value.size() - 2), last);
        EXPECT_EQ(computeFingerprint(certificate->x509(), algorithm), f.value);
    }
}

TEST(DtlsCertificate, GeneratedIsSelfSignedP256V3) {
    const auto certificate = Certificate::generate();
    X509* x509 = certificate->x509();
    EXPECT_EQ(X509_get_version(x509), X509_VERSION_3);
    EXPECT_EQ(X509_verify(x509, X509_get0_pubkey(x509)), 1);
    EXPECT_EQ(X509_check_issued(x509, x509), X509_V_OK);
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x509), X509_get_issuer_name(x509)), 0);
    EXPECT_EQ(X509_check_private_key(x509, certificate->privateKey()), 1);

    EXPECT_EQ(EVP_PKEY_get_base_id(certificate->privateKey()), EVP_PKEY_EC);
    std::array<char, 64> group{};
    size_t groupLength = 0;
    ASSERT_EQ(EVP_PKEY_get_group_name(certificate->privateKey(), group.data(), group.size(),
                                      &groupLength),
              1);
    EXPECT_STREQ(group.data(), "prime256v1");

    BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), nullptr);
    ASSERT_NE(serial, nullptr);
    EXPECT_GE(BN_num_bits(serial), 64);
    EXPECT_FALSE(BN_is_negative(serial));
    BN_free(serial);

    // Valid now, from a day ago to about a year ahead.
    time_t now = std::time(nullptr);
    EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(x509), &now), -1);
    EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x509), &now), 1);
    time_t dayAgoish = now - 23 * 3600;
    EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(x509), &dayAgoish), -1);
    time_t in364Days = now + 364L * 86400;
    EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x509), &in364Days), 1);
    time_t in400Days = now + 400L * 86400;
    EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x509), &in400Days), -1);

    // PEM round trip.
    const std::string pem = certificate->pem();
    EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
    const auto again = Certificate::fromPem(pem, privateKeyPem(certificate->privateKey()));
    EXPECT_EQ(again->fingerprint(FingerprintAlgorithm::Sha256),
              certificate->fingerprint(FingerprintAlgorithm::Sha256));
}

TEST(DtlsCertificate, EachGenerationIsUnique) {
    const auto a = Certificate::generate();
    const auto b = Certificate::generate();
    EXPECT_NE(a->fingerprint(FingerprintAlgorithm::Sha256),
              b->fingerprint(FingerprintAlgorithm::Sha256));
    EXPECT_NE(
        ASN1_INTEGER_cmp(X509_get0_serialNumber(a->x509()), X509_get0_serialNumber(b->x509())), 0);
    EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(a->x509()), X509_get_subject_name(b->x509())), 0);
}

TEST(DtlsCertificate, LoadsWhatOpensslReqMakes) {
    if (!haveOpensslCli()) {
        GTEST_SKIP() << "no openssl command";
    }
    TempDir dir;
    for (const char* keySpec : {"ec -pkeyopt ec_paramgen_curve:prime256v1", "rsa:2048"}) {
        const std::string cert = dir.file("cert.pem");
        const std::string key = dir.file("key.pem");
        ASSERT_TRUE(shell(std::string("openssl req -x509 -newkey ") + keySpec + " -nodes -keyout " +
                          key + " -out " + cert + " -days 30 -subj /CN=sfu-dtls-test"))
            << keySpec;
        const auto certificate = Certificate::fromPemFiles(cert, key);
        EXPECT_EQ(certificate->fingerprint(FingerprintAlgorithm::Sha256),
                  cliFingerprint(dir, cert, "sha256"));
        EXPECT_EQ(certificate->fingerprint(FingerprintAlgorithm::Sha1),
                  cliFingerprint(dir, cert, "sha1"));
        EXPECT_EQ(certificate->fingerprint(FingerprintAlgorithm::Sha512),
                  cliFingerprint(dir, cert, "sha512"));
        // A context builds on it, as the worker's would.
        const auto context = DtlsContext::create(cert, key);
        EXPECT_EQ(context->certificate().fingerprint(FingerprintAlgorithm::Sha384),
                  certificate->fingerprint(FingerprintAlgorithm::Sha384));
    }
}

TEST(DtlsCertificate, BadFilesThrow) {
    TempDir dir;
    const auto generated = Certificate::generate();
    const auto other = Certificate::generate();
    const std::string cert = dir.file("cert.pem");
    const std::string key = dir.file("key.pem");
    const std::string otherKey = dir.file("other-key.pem");
    const std::string junk = dir.file("junk.pem");
    std::ofstream(cert) << generated->pem();
    std::ofstream(key) << privateKeyPem(generated->privateKey());
    std::ofstream(otherKey) << privateKeyPem(other->privateKey());
    std::ofstream(junk) << "not a pem file\n";

    EXPECT_NO_THROW(Certificate::fromPemFiles(cert, key));
    EXPECT_THROW(Certificate::fromPemFiles(dir.file("missing.pem"), key), sfu::Error);
    EXPECT_THROW(Certificate::fromPemFiles(cert, dir.file("missing.pem")), sfu::Error);
    EXPECT_THROW(Certificate::fromPemFiles(junk, key), sfu::Error);
    EXPECT_THROW(Certificate::fromPemFiles(cert, junk), sfu::Error);
    // The key and the certificate swapped.
    EXPECT_THROW(Certificate::fromPemFiles(key, cert), sfu::Error);
    EXPECT_THROW(Certificate::fromPemFiles(cert, otherKey), sfu::Error);
    EXPECT_THROW(DtlsContext::create(cert, ""), sfu::Error);
    EXPECT_THROW(DtlsContext::create("", key), sfu::Error);
    try {
        Certificate::fromPemFiles(cert, otherKey);
    } catch (const sfu::Error& error) {
        EXPECT_NE(std::string(error.what()).find("does not match"), std::string::npos)
            << error.what();
    }
}

TEST(DtlsCertificate, EncryptedKeyIsRefusedWithoutPrompting) {
    if (!haveOpensslCli()) {
        GTEST_SKIP() << "no openssl command";
    }
    TempDir dir;
    const std::string cert = dir.file("cert.pem");
    const std::string key = dir.file("key.pem");
    const std::string encrypted = dir.file("encrypted.pem");
    ASSERT_TRUE(shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                      "-nodes -keyout " +
                      key + " -out " + cert + " -days 1 -subj /CN=x"));
    ASSERT_TRUE(
        shell("openssl pkey -in " + key + " -aes256 -passout pass:secret -out " + encrypted));
    EXPECT_THROW(Certificate::fromPemFiles(cert, encrypted), sfu::Error);
}

TEST(DtlsContext, GeneratedWhenNoFilesGiven) {
    const auto a = DtlsContext::create("", "");
    const auto b = DtlsContext::create("", "");
    ASSERT_NE(a->sslCtx(), nullptr);
    EXPECT_EQ(a->srtpProfiles().size(), 4u);
    EXPECT_NE(a->certificate().fingerprint(FingerprintAlgorithm::Sha256),
              b->certificate().fingerprint(FingerprintAlgorithm::Sha256));
    EXPECT_THROW(DtlsContext(nullptr), sfu::TypeError);
}
