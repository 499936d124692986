// Process entry: checks the environment the host provides (MEDIASOUP_VERSION,
// settings, fds 3-6), sets up the libraries, runs the Worker on one libuv
// loop and exits 0 when it closes. Exit 42 means invalid settings, 1 any
// other start-up failure.
#include "Settings.hpp"
#include "Worker.hpp"
#include "deps/Libraries.hpp"
#include "protocol/dtls/DtlsContext.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <string>
#include <uv.h>
#include <vector>

namespace {

bool fdIsOpen(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

void ignoreSignals() {
    for (int signum : {SIGPIPE, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2}) {
        std::signal(signum, SIG_IGN);
    }
}

} // namespace

int main(int argc, char* argv[]) {
    if (std::getenv("MEDIASOUP_VERSION") == nullptr) {
        std::fprintf(stderr, "sfu-worker: MEDIASOUP_VERSION is not set; this program is spawned "
                             "by a mediasoup host, not run by hand\n");
        return 1;
    }

    sfu::Settings settings;
    try {
        settings = sfu::parseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
        sfu::parseEnvironment(settings,
                              [](const char* name) -> const char* { return std::getenv(name); });
    } catch (const sfu::SettingsError& e) {
        std::fprintf(stderr, "sfu-worker: invalid settings: %s\n", e.what());
        return sfu::kExitCodeSettingsError;
    }

    for (int fd = sfu::Worker::kChannelReadFd; fd <= sfu::Worker::kPayloadWriteFd; ++fd) {
        if (!fdIsOpen(fd)) {
            std::fprintf(stderr,
                         "sfu-worker: fd %d is not open; the host must pass the channel on fds 3 "
                         "and 4 and the payload channel on fds 5 and 6\n",
                         fd);
            return 1;
        }
    }

    ignoreSignals();

    int exitCode = 0;
    try {
        sfu::deps::Libraries libraries;
        std::shared_ptr<const sfu::dtls::DtlsContext> dtlsContext;
        try {
            dtlsContext = sfu::dtls::DtlsContext::create(settings.dtlsCertificateFile,
                                                         settings.dtlsPrivateKeyFile);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sfu-worker: cannot set up DTLS: %s\n", e.what());
            // A certificate the host gave that DTLS cannot use is a bad setting.
            return settings.dtlsCertificateFile.empty() ? 1 : sfu::kExitCodeSettingsError;
        }
        uv_loop_t loop;
        uv_loop_init(&loop);
        {
            sfu::Worker worker(&loop, std::move(settings), std::move(dtlsContext));
            uv_run(&loop, UV_RUN_DEFAULT);
        }
        // Let the close callbacks of the last handles run.
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0) {
            std::fprintf(stderr, "sfu-worker: handles left open at exit\n");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sfu-worker: fatal: %s\n", e.what());
        exitCode = 1;
    }
    return exitCode;
}
