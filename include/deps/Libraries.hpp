// Process-wide set-up and tear-down of the third-party C libraries
// (OpenSSL). One instance lives for the whole run of the worker.
#pragma once

namespace sfu::deps {

class Libraries {
public:
    Libraries();
    ~Libraries();
    Libraries(const Libraries&) = delete;
    Libraries& operator=(const Libraries&) = delete;
};

} // namespace sfu::deps
