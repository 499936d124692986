// The OpenSSL context every DtlsTransport of a worker shares: the local
// certificate, DTLS 1.2 only, WebRTC cipher suites, a required peer
// certificate checked by fingerprint after the handshake, and the
// DTLS-SRTP profiles we offer or accept. OpenSSL's default security level
// holds unless a configured certificate is too weak for it.
#pragma once

#include "protocol/dtls/Certificate.hpp"
#include "protocol/dtls/SrtpProfile.hpp"

#include <memory>
#include <openssl/types.h>
#include <span>
#include <string>
#include <vector>

namespace sfu::dtls {

class DtlsContext {
public:
    // `srtpProfiles` in order of preference; a server picks the first of
    // these the client offers. An empty list offers no use_srtp extension,
    // which makes every handshake fail: only tests want that. Throws
    // sfu::Error if OpenSSL refuses the configuration.
    explicit DtlsContext(std::shared_ptr<const Certificate> certificate,
                         std::span<const SrtpProfile> srtpProfiles = kAllSrtpProfiles);
    ~DtlsContext();
    DtlsContext(const DtlsContext&) = delete;
    DtlsContext& operator=(const DtlsContext&) = delete;

    // The worker's context from its settings: the given PEM files, or a
    // generated certificate when both paths are empty. Build it once at
    // start-up. Throws sfu::Error as Certificate does.
    static std::shared_ptr<const DtlsContext> create(const std::string& certificateFile,
                                                     const std::string& privateKeyFile);

    SSL_CTX* sslCtx() const { return ctx_; }
    const Certificate& certificate() const { return *certificate_; }
    const std::vector<SrtpProfile>& srtpProfiles() const { return srtpProfiles_; }

    // OpenSSL's security level of the context: its default, unless the
    // certificate needs a lower one (down to 1: RSA 1024 bits); then
    // securityWarning() says why, for the worker's log, and is otherwise
    // empty.
    int securityLevel() const { return securityLevel_; }
    const std::string& securityWarning() const { return securityWarning_; }

private:
    void useCertificate();

    std::shared_ptr<const Certificate> certificate_;
    std::vector<SrtpProfile> srtpProfiles_;
    SSL_CTX* ctx_ = nullptr;
    int securityLevel_ = 0;
    std::string securityWarning_;
};

} // namespace sfu::dtls
