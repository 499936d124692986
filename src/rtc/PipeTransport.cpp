#include "rtc/PipeTransport.hpp"

#include "utils/Errors.hpp"

namespace sfu::rtc {

using nlohmann::json;

namespace {

constexpr const char* kPipeSrtpSuite = "AES_CM_128_HMAC_SHA1_80";

// The pipe's own choices over what the host sends for a pipe transport.
json pipeData(const json& data) {
    if (!data.is_object()) {
        throw TypeError("invalid data (not an object)");
    }
    json out = data;
    out["rtcpMux"] = true;
    out["comedia"] = false;
    out["srtpCryptoSuite"] = kPipeSrtpSuite;
    return out;
}

} // namespace

PipeTransport::PipeTransport(std::string id, Shared& shared, Transport::Listener& listener,
                             const json& data)
    : PlainTransport(std::move(id), shared, listener, pipeData(data)) {
    if (const auto rtx = data.find("enableRtx"); rtx != data.end() && !rtx->is_null()) {
        if (!rtx->is_boolean()) {
            throw TypeError("invalid enableRtx (not a boolean)");
        }
        rtx_ = rtx->get<bool>();
    }
}

void PipeTransport::connect(channel::Request& request) {
    const json& data = request.data();
    if (const auto srtp = data.find("srtpParameters"); srtp != data.end() && srtp->is_object()) {
        const auto suite = srtp->find("cryptoSuite");
        if (suite != srtp->end() && suite->is_string() &&
            suite->get<std::string>() != kPipeSrtpSuite) {
            throw TypeError("invalid srtpParameters.cryptoSuite (a pipe transport uses " +
                            std::string(kPipeSrtpSuite) + ")");
        }
    }
    PlainTransport::connect(request);
}

void PipeTransport::fillDump(json& out) const {
    PlainTransport::fillDump(out);
    out.erase("rtcpMux");
    out.erase("comedia");
    out["rtx"] = rtx_;
}

void PipeTransport::fillStats(json& out) const {
    PlainTransport::fillStats(out);
    out.erase("rtcpMux");
    out.erase("comedia");
}

} // namespace sfu::rtc
