// Control-path errors. A request handler throws one of these; the channel
// turns it into the response's `error` field: TypeError for bad arguments,
// Error for everything else (unknown id, wrong state, duplicates...).
// The media path never throws.
#pragma once

#include <stdexcept>
#include <string>

namespace sfu {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& reason) : std::runtime_error(reason) {}
};

class TypeError : public std::runtime_error {
public:
    explicit TypeError(const std::string& reason) : std::runtime_error(reason) {}
};

} // namespace sfu
