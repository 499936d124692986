#include "protocol/dtls/DtlsContext.hpp"

#include "OpenSslUtil.hpp"
#include "utils/Errors.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>

namespace sfu::dtls {

namespace {

// Forward-secret AEAD suites only: every WebRTC stack offers them, and a
// record too short for an AEAD's overhead can be refused before OpenSSL sees
// it (OpenSSL 3.0 ends the connection on some short or forged records of the
// CBC suites, which cannot be told apart beforehand). Both ECDSA and RSA
// so that a configured RSA certificate works too.
constexpr const char* kCipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                    "ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                    "ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL 3 always picks the ECDH group automatically (SSL_CTX_set_ecdh_auto
// is a no-op); this only states which groups, in order.
constexpr const char* kGroups = "X25519:P-256:P-384";

// WebRTC certificates are self-signed, so chain validation means nothing:
// the peer is authenticated by the fingerprint from signalling, checked
// once the handshake is done.
int acceptAnyCertificate(int /*preverifyOk*/, X509_STORE_CTX* /*store*/) {
    return 1;
}

// The lowest OpenSSL security level a configured certificate may bring the
// context down to: 80 bits of security (RSA 1024), which hosts hand in (the
// mediasoup host's own test certificate is RSA 1024 with SHA-1). Level 0
// would accept anything at all.
constexpr int kLowestSecurityLevel = 1;

// Whether OpenSSL refused a certificate for the security level only.
bool refusedForSecurityLevel(unsigned long error) {
    if (ERR_GET_LIB(error) != ERR_LIB_SSL) {
        return false;
    }
    const int reason = ERR_GET_REASON(error);
    return reason == SSL_R_EE_KEY_TOO_SMALL || reason == SSL_R_CA_KEY_TOO_SMALL ||
           reason == SSL_R_CA_MD_TOO_WEAK;
}

// "RSA 1024 bits, SHA1 signature": what decides a certificate's level.
std::string describeCertificate(X509* x509, EVP_PKEY* key) {
    const char* type = EVP_PKEY_get0_type_name(key);
    std::string text = std::string(type != nullptr ? type : "unknown") + " " +
                       std::to_string(EVP_PKEY_get_bits(key)) + " bits";
    int digest = NID_undef;
    if (X509_get_signature_info(x509, &digest, nullptr, nullptr, nullptr) == 1 &&
        digest != NID_undef) {
        text += std::string(", ") + OBJ_nid2sn(digest) + " signature";
    }
    ERR_clear_error();
    return text;
}

} // namespace

DtlsContext::DtlsContext(std::shared_ptr<const Certificate> certificate,
                         std::span<const SrtpProfile> srtpProfiles)
    : certificate_(std::move(certificate)),
      srtpProfiles_(srtpProfiles.begin(), srtpProfiles.end()) {
    if (!certificate_) {
        throw sfu::TypeError("DtlsContext needs a certificate");
    }
    ERR_clear_error();
    ctx_ = SSL_CTX_new(DTLS_method());
    if (ctx_ == nullptr) {
        detail::throwOpenSslError("SSL_CTX_new() failed");
    }
    try {
        useCertificate();
        if (SSL_CTX_use_PrivateKey(ctx_, certificate_->privateKey()) != 1 ||
            SSL_CTX_check_private_key(ctx_) != 1) {
            detail::throwOpenSslError("cannot use the DTLS certificate");
        }
        // DTLS 1.0 is deprecated (RFC 8996) and every WebRTC peer does 1.2.
        if (SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION) != 1) {
            detail::throwOpenSslError("cannot restrict the DTLS version");
        }
        // No resumption: every association is a fresh full handshake keyed
        // by its own certificates. No renegotiation: WebRTC never needs it
        // and it only adds attack surface. The MTU is ours to set: a memory
        // transport has none to query.
        SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE);
        SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
        // Each datagram is handed over whole; nothing to read ahead.
        SSL_CTX_set_read_ahead(ctx_, 0);
        SSL_CTX_set_verify_depth(ctx_, 4);
        // A server must ask for the client's certificate, and either side
        // must refuse a peer without one: the fingerprint needs it.
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           acceptAnyCertificate);
        if (SSL_CTX_set_cipher_list(ctx_, kCipherList) != 1) {
            detail::throwOpenSslError("SSL_CTX_set_cipher_list() failed");
        }
        if (SSL_CTX_set1_groups_list(ctx_, kGroups) != 1) {
            detail::throwOpenSslError("SSL_CTX_set1_groups_list() failed");
        }
        if (!srtpProfiles_.empty()) {
            std::string list;
            for (const SrtpProfile profile : srtpProfiles_) {
                if (!list.empty()) {
                    list += ':';
                }
                list += detail::openSslSrtpProfileName(profile);
            }
            // Unlike most of OpenSSL, this one returns 0 on success.
            if (SSL_CTX_set_tlsext_use_srtp(ctx_, list.c_str()) != 0) {
                detail::throwOpenSslError("SSL_CTX_set_tlsext_use_srtp() failed");
            }
        }
    } catch (...) {
        SSL_CTX_free(ctx_);
        throw;
    }
}

void DtlsContext::useCertificate() {
    // OpenSSL's default level (2 on Debian: 112 bits, RSA 2048) also bounds
    // what peers may use, so it stays unless our own certificate is below
    // it; then the level goes down step by step to the first that takes the
    // certificate, never below kLowestSecurityLevel.
    const int defaultLevel = SSL_CTX_get_security_level(ctx_);
    securityLevel_ = defaultLevel;
    while (SSL_CTX_use_certificate(ctx_, certificate_->x509()) != 1) {
        if (!refusedForSecurityLevel(ERR_peek_error()) || securityLevel_ <= kLowestSecurityLevel) {
            detail::throwOpenSslError("cannot use the DTLS certificate");
        }
        ERR_clear_error();
        SSL_CTX_set_security_level(ctx_, --securityLevel_);
    }
    if (securityLevel_ != defaultLevel) {
        securityWarning_ = "DTLS certificate needs security level " +
                           std::to_string(securityLevel_) + " (" +
                           describeCertificate(certificate_->x509(), certificate_->privateKey()) +
                           "); lowering it from " + std::to_string(defaultLevel);
    }
}

DtlsContext::~DtlsContext() {
    SSL_CTX_free(ctx_);
}

std::shared_ptr<const DtlsContext> DtlsContext::create(const std::string& certificateFile,
                                                       const std::string& privateKeyFile) {
    if (certificateFile.empty() && privateKeyFile.empty()) {
        return std::make_shared<const DtlsContext>(Certificate::generate());
    }
    return std::make_shared<const DtlsContext>(
        Certificate::fromPemFiles(certificateFile, privateKeyFile));
}

} // namespace sfu::dtls
