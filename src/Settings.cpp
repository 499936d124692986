#include "Settings.hpp"

#include "utils/Errors.hpp"

#include <charconv>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace sfu {

namespace {

uint16_t parsePort(const std::string& name, const std::string& value) {
    unsigned port = 0;
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, port);
    if (value.empty() || ec != std::errc() || ptr != end || port > 65535) {
        throw SettingsError("invalid --" + name + " '" + value + "' (a port number 0..65535)");
    }
    return static_cast<uint16_t>(port);
}

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

File openReadable(const std::string& option, const std::string& path) {
    File file(std::fopen(path.c_str(), "rb"));
    if (!file) {
        throw SettingsError("--" + option + " '" + path + "' cannot be read");
    }
    return file;
}

// An encrypted key cannot be used (there is nobody to type a passphrase);
// without this callback OpenSSL would prompt on the terminal.
int noPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return 0;
}

// Loads both PEM files and checks that the key belongs to the certificate,
// so that a bad pair stops the worker at start-up, not at the first DTLS
// handshake.
void validateCertificatePair(const std::string& certPath, const std::string& keyPath) {
    File certFile = openReadable("dtlsCertificateFile", certPath);
    File keyFile = openReadable("dtlsPrivateKeyFile", keyPath);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_X509(certFile.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) {
        ERR_clear_error();
        throw SettingsError("--dtlsCertificateFile '" + certPath +
                            "' is not a PEM X.509 certificate");
    }
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_PrivateKey(keyFile.get(), nullptr, noPassphrase, nullptr), EVP_PKEY_free);
    if (!key) {
        ERR_clear_error();
        throw SettingsError("--dtlsPrivateKeyFile '" + keyPath + "' is not a PEM private key");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw SettingsError("--dtlsPrivateKeyFile does not match --dtlsCertificateFile");
    }
}

LogLevel parseLevelOrThrow(const std::string& value) {
    if (auto level = parseLogLevel(value)) {
        return *level;
    }
    throw SettingsError("invalid --logLevel '" + value + "' (debug, warn, error or none)");
}

LogTag parseTagOrThrow(const std::string& value) {
    if (auto tag = parseLogTag(value)) {
        return *tag;
    }
    throw SettingsError("invalid --logTag '" + value + "'");
}

} // namespace

Settings parseCommandLine(const std::vector<std::string>& args) {
    Settings settings;
    bool minGiven = false;
    bool maxGiven = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
            throw SettingsError("unexpected argument '" + arg + "'");
        }
        std::string name;
        std::string value;
        const size_t eq = arg.find('=');
        if (eq != std::string::npos) {
            name = arg.substr(2, eq - 2);
            value = arg.substr(eq + 1);
        } else {
            name = arg.substr(2);
            if (i + 1 >= args.size()) {
                throw SettingsError("option --" + name + " needs a value");
            }
            value = args[++i];
        }
        if (name == "logLevel") {
            settings.logLevel = parseLevelOrThrow(value);
        } else if (name == "logTag") {
            settings.logTags |= logTagBit(parseTagOrThrow(value));
        } else if (name == "rtcMinPort") {
            settings.rtcMinPort = parsePort(name, value);
            minGiven = true;
        } else if (name == "rtcMaxPort") {
            settings.rtcMaxPort = parsePort(name, value);
            maxGiven = true;
        } else if (name == "dtlsCertificateFile") {
            settings.dtlsCertificateFile = value;
        } else if (name == "dtlsPrivateKeyFile") {
            settings.dtlsPrivateKeyFile = value;
        } else {
            throw SettingsError("unknown option --" + name);
        }
    }
    if (settings.rtcMinPort > settings.rtcMaxPort) {
        throw SettingsError("--rtcMinPort (" + std::to_string(settings.rtcMinPort) +
                            ") is greater than --rtcMaxPort (" +
                            std::to_string(settings.rtcMaxPort) + ")" +
                            (minGiven != maxGiven ? " (the other one is the default)" : ""));
    }
    const bool haveCert = !settings.dtlsCertificateFile.empty();
    const bool haveKey = !settings.dtlsPrivateKeyFile.empty();
    if (haveCert != haveKey) {
        throw SettingsError(haveCert ? "--dtlsCertificateFile given without --dtlsPrivateKeyFile"
                                     : "--dtlsPrivateKeyFile given without --dtlsCertificateFile");
    }
    if (haveCert) {
        validateCertificatePair(settings.dtlsCertificateFile, settings.dtlsPrivateKeyFile);
    }
    return settings;
}

void parseEnvironment(Settings& settings, const char* (*lookup)(const char* name)) {
    const auto read = [lookup](const char* name, uint16_t& out) {
        const char* value = lookup(name);
        if (value == nullptr || *value == '\0') {
            return;
        }
        const std::string text(value);
        unsigned port = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, port);
        if (ec != std::errc() || ptr != end || port == 0 || port > 65535) {
            throw SettingsError(std::string("invalid ") + name + " '" + text +
                                "' (a port number 1..65535)");
        }
        out = static_cast<uint16_t>(port);
    };
    read("SFU_WEBRTC_UDP_PORT", settings.webRtcUdpPort);
    read("SFU_WEBRTC_TCP_PORT", settings.webRtcTcpPort);
}

void applySettingsUpdate(Settings& settings, const nlohmann::json& data) {
    Settings updated = settings;
    if (const auto level = data.find("logLevel"); level != data.end()) {
        const auto parsed =
            level->is_string() ? parseLogLevel(level->get<std::string>()) : std::nullopt;
        if (!parsed) {
            throw TypeError("invalid logLevel");
        }
        updated.logLevel = *parsed;
    }
    if (const auto tags = data.find("logTags"); tags != data.end()) {
        if (!tags->is_array()) {
            throw TypeError("logTags must be an array");
        }
        updated.logTags = 0;
        for (const auto& tag : *tags) {
            const auto parsed =
                tag.is_string() ? parseLogTag(tag.get<std::string>()) : std::nullopt;
            if (!parsed) {
                throw TypeError("invalid logTag " + tag.dump());
            }
            updated.logTags |= logTagBit(*parsed);
        }
    }
    settings = updated;
    settings.applyLogging();
}

} // namespace sfu
