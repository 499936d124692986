#include "Settings.hpp"

#include "utils/Errors.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using sfu::LogLevel;
using sfu::LogTag;
using sfu::parseCommandLine;
using sfu::SettingsError;

namespace {

std::string tempPath(const std::string& name) {
    return (::testing::TempDir() + "/sfu-settings-" + name);
}

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

// Creates a self-signed pair with the openssl CLI; returns false if it is
// missing.
bool makeCertPair(const std::string& cert, const std::string& key) {
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                            "-nodes -subj /CN=test -days 1 -keyout " +
                            key + " -out " + cert + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

} // namespace

TEST(Settings, DefaultsWithNoArguments) {
    const auto s = parseCommandLine({});
    EXPECT_EQ(s.logLevel, LogLevel::Error);
    EXPECT_EQ(s.logTags, 0u);
    EXPECT_EQ(s.rtcMinPort, 10000);
    EXPECT_EQ(s.rtcMaxPort, 59999);
}

TEST(Settings, ParsesEveryOption) {
    const auto s = parseCommandLine({"--logLevel=debug", "--logTag=ice", "--logTag=rtp",
                                     "--rtcMinPort=2000", "--rtcMaxPort", "3000"});
    EXPECT_EQ(s.logLevel, LogLevel::Debug);
    EXPECT_EQ(s.logTags, sfu::logTagBit(LogTag::Ice) | sfu::logTagBit(LogTag::Rtp));
    EXPECT_EQ(s.rtcMinPort, 2000);
    EXPECT_EQ(s.rtcMaxPort, 3000);
}

TEST(Settings, AcceptsPortBounds) {
    EXPECT_NO_THROW(parseCommandLine({"--rtcMinPort=0", "--rtcMaxPort=65535"}));
    EXPECT_NO_THROW(parseCommandLine({"--rtcMinPort=5000", "--rtcMaxPort=5000"}));
}

TEST(Settings, RejectsInvalidSettings) {
    const std::vector<std::vector<std::string>> bad = {
        {"--foo=1"},
        {"positional"},
        {"--"},
        {"--logLevel=chicken"},
        {"--logLevel="},
        {"--logTag=chicken"},
        {"--rtcMinPort=abc"},
        {"--rtcMinPort="},
        {"--rtcMinPort=70000"},
        {"--rtcMinPort=65536"},
        {"--rtcMaxPort=-1"},
        {"--rtcMaxPort=1e3"},
        {"--rtcMinPort=5000", "--rtcMaxPort=4000"},
        {"--rtcMinPort=60000"},
        {"--rtcMaxPort"},
        {"--dtlsCertificateFile=/nonexistent/cert.pem"},
        {"--dtlsPrivateKeyFile=/nonexistent/key.pem"},
        {"--dtlsCertificateFile=/nonexistent/c.pem", "--dtlsPrivateKeyFile=/nonexistent/k.pem"},
    };
    for (const auto& args : bad) {
        EXPECT_THROW(parseCommandLine(args), SettingsError) << args[0];
    }
}

TEST(Settings, ValidatesCertificateAndKeyWithOpenSsl) {
    const std::string cert = tempPath("c.pem");
    const std::string key = tempPath("k.pem");
    const std::string cert2 = tempPath("c2.pem");
    const std::string key2 = tempPath("k2.pem");
    ASSERT_TRUE(makeCertPair(cert, key));
    ASSERT_TRUE(makeCertPair(cert2, key2));
    const std::string garbage = tempPath("garbage.pem");
    writeFile(garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

    EXPECT_NO_THROW(
        parseCommandLine({"--dtlsCertificateFile=" + cert, "--dtlsPrivateKeyFile=" + key}));
    // Mismatched pair.
    EXPECT_THROW(
        parseCommandLine({"--dtlsCertificateFile=" + cert, "--dtlsPrivateKeyFile=" + key2}),
        SettingsError);
    // Not PEM.
    EXPECT_THROW(
        parseCommandLine({"--dtlsCertificateFile=" + garbage, "--dtlsPrivateKeyFile=" + key}),
        SettingsError);
    EXPECT_THROW(
        parseCommandLine({"--dtlsCertificateFile=" + cert, "--dtlsPrivateKeyFile=" + garbage}),
        SettingsError);
    // Swapped: a key where the certificate should be.
    EXPECT_THROW(parseCommandLine({"--dtlsCertificateFile=" + key, "--dtlsPrivateKeyFile=" + cert}),
                 SettingsError);
    // Only one of the two.
    EXPECT_THROW(parseCommandLine({"--dtlsCertificateFile=" + cert}), SettingsError);
    EXPECT_THROW(parseCommandLine({"--dtlsPrivateKeyFile=" + key}), SettingsError);
}

TEST(Settings, UpdateChangesLevelAndTags) {
    sfu::Settings s;
    sfu::applySettingsUpdate(s, nlohmann::json{{"logLevel", "warn"}, {"logTags", {"ice", "bwe"}}});
    EXPECT_EQ(s.logLevel, LogLevel::Warn);
    EXPECT_EQ(s.logTags, sfu::logTagBit(LogTag::Ice) | sfu::logTagBit(LogTag::Bwe));
    EXPECT_EQ(sfu::Logger::level(), LogLevel::Warn);
    // Absent fields stay as they were.
    sfu::applySettingsUpdate(s, nlohmann::json::object());
    EXPECT_EQ(s.logLevel, LogLevel::Warn);
    sfu::applySettingsUpdate(s, nlohmann::json{{"logLevel", "error"}});
    EXPECT_EQ(s.logTags, sfu::logTagBit(LogTag::Ice) | sfu::logTagBit(LogTag::Bwe));
}

TEST(Settings, UpdateRejectsBadValuesAndChangesNothing) {
    sfu::Settings s;
    s.logLevel = LogLevel::Warn;
    for (const auto& bad : {nlohmann::json{{"logLevel", "chicken"}},
                            nlohmann::json{{"logLevel", 3}}, nlohmann::json{{"logTags", "ice"}},
                            nlohmann::json{{"logLevel", "debug"}, {"logTags", {"ice", "chicken"}}},
                            nlohmann::json{{"logTags", {1}}}}) {
        EXPECT_THROW(sfu::applySettingsUpdate(s, bad), sfu::TypeError) << bad.dump();
        EXPECT_EQ(s.logLevel, LogLevel::Warn);
        EXPECT_EQ(s.logTags, 0u);
    }
}

namespace {

// The environment parseEnvironment() sees in these tests.
std::map<std::string, std::string> fakeEnvironment;

const char* lookupFake(const char* name) {
    const auto it = fakeEnvironment.find(name);
    return it == fakeEnvironment.end() ? nullptr : it->second.c_str();
}

sfu::Settings fromEnvironment(std::map<std::string, std::string> environment) {
    fakeEnvironment = std::move(environment);
    sfu::Settings settings;
    sfu::parseEnvironment(settings, lookupFake);
    return settings;
}

} // namespace

TEST(Settings, SharedWebRtcPortsAreOffWithoutTheEnvironment) {
    const auto s = fromEnvironment({});
    EXPECT_EQ(s.webRtcUdpPort, 0);
    EXPECT_EQ(s.webRtcTcpPort, 0);
    const auto empty = fromEnvironment({{"SFU_WEBRTC_UDP_PORT", ""}});
    EXPECT_EQ(empty.webRtcUdpPort, 0);
}

TEST(Settings, SharedWebRtcPortsComeFromTheEnvironment) {
    const auto s =
        fromEnvironment({{"SFU_WEBRTC_UDP_PORT", "44444"}, {"SFU_WEBRTC_TCP_PORT", "65535"}});
    EXPECT_EQ(s.webRtcUdpPort, 44444);
    EXPECT_EQ(s.webRtcTcpPort, 65535);
    const auto udpOnly = fromEnvironment({{"SFU_WEBRTC_UDP_PORT", "1"}});
    EXPECT_EQ(udpOnly.webRtcUdpPort, 1);
    EXPECT_EQ(udpOnly.webRtcTcpPort, 0);
}

TEST(Settings, BadSharedWebRtcPortsAreErrorsNamingTheVariable) {
    for (const char* bad : {"0", "65536", "-1", "12ab", " 4000", "4000 ", "0x10", "99999999999"}) {
        for (const char* name : {"SFU_WEBRTC_UDP_PORT", "SFU_WEBRTC_TCP_PORT"}) {
            try {
                fromEnvironment({{name, bad}});
                ADD_FAILURE() << name << "=" << bad << " accepted";
            } catch (const SettingsError& e) {
                EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
            }
        }
    }
}
