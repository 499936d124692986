// Small helpers shared by the DTLS sources: owning pointers for OpenSSL
// objects and error messages drained from OpenSSL's error queue.
#pragma once

#include "protocol/dtls/SrtpProfile.hpp"

#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <optional>
#include <string>
#include <string_view>

namespace sfu::dtls::detail {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
    void operator()(T* p) const { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;

// "<what>: <first OpenSSL error>" (or just `what` when the queue is empty),
// and empties the queue so the error cannot leak into an unrelated call.
std::string takeOpenSslError(std::string_view what);

// Thrown as sfu::Error with takeOpenSslError(what).
[[noreturn]] void throwOpenSslError(std::string_view what);

// OpenSSL's name for a profile in SSL_CTX_set_tlsext_use_srtp() lists.
const char* openSslSrtpProfileName(SrtpProfile profile);
// The profile with OpenSSL's (and RFC 5764's) identifier, if we know it.
std::optional<SrtpProfile> srtpProfileFromId(unsigned long id);

} // namespace sfu::dtls::detail
