// The worker's settings: the command line given by the host at spawn time,
// and the part the host may change later (worker.updateSettings).
#pragma once

#include "Logger.hpp"

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace sfu {

struct Settings {
    LogLevel logLevel = LogLevel::Error;
    uint32_t logTags = 0;
    uint16_t rtcMinPort = 10000;
    uint16_t rtcMaxPort = 59999;
    std::string dtlsCertificateFile;
    std::string dtlsPrivateKeyFile;
    // One UDP and one TCP port shared by every WebRtcTransport of the
    // worker (0: each transport binds its own ports from the range). From
    // the environment: SFU_WEBRTC_UDP_PORT and SFU_WEBRTC_TCP_PORT.
    uint16_t webRtcUdpPort = 0;
    uint16_t webRtcTcpPort = 0;

    // Applies the level and tags to the logger.
    void applyLogging() const { Logger::configure(logLevel, logTags); }
};

// An invalid setting at start-up: the worker exits with code 42.
class SettingsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses `--name=value` options (also `--name value`). Throws SettingsError
// for an unknown option, a bad value, a port range that is inverted or out of
// bounds, or a DTLS certificate/key that is missing, unreadable, not PEM or
// not a matching pair (checked with OpenSSL).
Settings parseCommandLine(const std::vector<std::string>& args);

// Reads the settings the host can only pass through the environment (the
// 3.8 host spawns the worker with its own environment): SFU_WEBRTC_UDP_PORT
// and SFU_WEBRTC_TCP_PORT, each a port 1..65535; unset or empty means
// absent. `lookup` returns a variable's value or nullptr (std::getenv in the
// worker). Throws SettingsError for any other value.
void parseEnvironment(Settings& settings, const char* (*lookup)(const char* name));

// worker.updateSettings: `{"logLevel"?: string, "logTags"?: [string]}`.
// Throws sfu::TypeError for a bad value; nothing changes then.
void applySettingsUpdate(Settings& settings, const nlohmann::json& data);

// Exit code for invalid settings, which the host maps to TypeError.
constexpr int kExitCodeSettingsError = 42;

} // namespace sfu
