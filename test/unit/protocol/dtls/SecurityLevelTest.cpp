// OpenSSL's security level of a DtlsContext: the default for the generated
// certificate and for strong configured ones, lowered (with a warning) only
// for a configured certificate that needs it.
#include "DtlsTestPeers.hpp"
#include "protocol/dtls/Certificate.hpp"
#include "protocol/dtls/DtlsContext.hpp"
#include "utils/Errors.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>

using namespace sfu::dtls;

namespace {

// The level a fresh DTLS context gets from OpenSSL and its configuration.
int defaultSecurityLevel() {
    SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
    const int level = SSL_CTX_get_security_level(ctx);
    SSL_CTX_free(ctx);
    return level;
}

std::string pemOf(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(length));
}

// A self-signed certificate for a fresh key: "RSA" with `bits`, or "EC"
// on P-256, signed with `digest`.
std::shared_ptr<const Certificate> makeCertificate(const char* type, size_t bits,
                                                   const EVP_MD* digest) {
    EVP_PKEY* key = std::string(type) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits)
                                               : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    EXPECT_NE(key, nullptr);
    X509* x509 = X509_new();
    X509_set_version(x509, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 4242);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("security-level-test"), -1,
                               -1, 0);
    X509_set_issuer_name(x509, name);
    X509_gmtime_adj(X509_getm_notBefore(x509), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x509), 86400);
    X509_set_pubkey(x509, key);
    EXPECT_GT(X509_sign(x509, key, digest), 0);
    BIO* certBio = BIO_new(BIO_s_mem());
    BIO* keyBio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(certBio, x509);
    PEM_write_bio_PrivateKey(keyBio, key, nullptr, nullptr, 0, nullptr, nullptr);
    auto certificate = Certificate::fromPem(pemOf(certBio), pemOf(keyBio));
    BIO_free(certBio);
    BIO_free(keyBio);
    X509_free(x509);
    EVP_PKEY_free(key);
    return certificate;
}

void expectHandshake(std::shared_ptr<const DtlsContext> client,
                     std::shared_ptr<const DtlsContext> server) {
    sfu::dtls::test::Peers p(client, server);
    p.connect();
    EXPECT_EQ(p.client.state(), State::Connected) << p.client.lastError();
    EXPECT_EQ(p.server.state(), State::Connected) << p.server.lastError();
}

} // namespace

TEST(DtlsSecurityLevel, GeneratedCertificateKeepsTheDefault) {
    const auto context = DtlsContext::create("", "");
    EXPECT_EQ(context->securityLevel(), defaultSecurityLevel());
    EXPECT_EQ(SSL_CTX_get_security_level(context->sslCtx()), defaultSecurityLevel());
    EXPECT_EQ(context->securityWarning(), "");
}

TEST(DtlsSecurityLevel, StrongConfiguredCertificatesKeepTheDefault) {
    for (const auto& [type, bits] : {std::pair<const char*, size_t>{"RSA", 2048}, {"EC", 256}}) {
        const auto context =
            std::make_shared<const DtlsContext>(makeCertificate(type, bits, EVP_sha256()));
        EXPECT_EQ(context->securityLevel(), defaultSecurityLevel()) << type;
        EXPECT_EQ(SSL_CTX_get_security_level(context->sslCtx()), defaultSecurityLevel()) << type;
        EXPECT_EQ(context->securityWarning(), "") << type;
    }
}

TEST(DtlsSecurityLevel, WeakConfiguredCertificateLowersItWithAWarning) {
    const int level = defaultSecurityLevel();
    if (level < 2) {
        GTEST_SKIP() << "OpenSSL's default security level here is " << level
                     << ": RSA 1024 is not below it";
    }
    const auto context =
        std::make_shared<const DtlsContext>(makeCertificate("RSA", 1024, EVP_sha1()));
    EXPECT_EQ(context->securityLevel(), 1);
    EXPECT_EQ(SSL_CTX_get_security_level(context->sslCtx()), 1);
    EXPECT_EQ(context->securityWarning(),
              "DTLS certificate needs security level 1 (RSA 1024 bits, SHA1 signature); "
              "lowering it from " +
                  std::to_string(level));
}

TEST(DtlsSecurityLevel, TooWeakForLevelOneIsRefused) {
    EXPECT_THROW(DtlsContext(makeCertificate("RSA", 512, EVP_sha256())), sfu::Error);
}

TEST(DtlsSecurityLevel, LoweredContextStillHandshakes) {
    const auto weak = std::make_shared<const DtlsContext>(makeCertificate("RSA", 1024, EVP_sha1()));
    const auto strong = DtlsContext::create("", "");
    expectHandshake(strong, weak);
    expectHandshake(weak, strong);
}
