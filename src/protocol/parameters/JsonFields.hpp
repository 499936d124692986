// Field readers shared by the parameter parsers. Each throws sfu::TypeError
// with "missing <name>" or "invalid <name>" so messages stay uniform.
#pragma once

#include "protocol/parameters/RtpParameters.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sfu::params::detail {

using nlohmann::json;

[[noreturn]] void throwMissing(const std::string& name);
[[noreturn]] void throwInvalid(const std::string& name);

// Throws "invalid <name>" unless `v` is an object.
void requireObject(const json& v, const std::string& name);

// Member `key` of the object `obj`, or nullptr when absent or null.
const json* optionalField(const json& obj, std::string_view key);
// Member `key`, or "missing <name>" when absent or null.
const json& requiredField(const json& obj, std::string_view key, const std::string& name);

// A number with no fractional part in [0, 2^64), else nothing. Integral
// floats are accepted because JSON does not distinguish 96 from 96.0.
std::optional<uint64_t> asUnsigned(const json& v);

// Typed readers: "invalid <name>" on wrong type or out of range.
uint64_t readUnsigned(const json& v, uint64_t min, uint64_t max, const std::string& name);
double readNumber(const json& v, const std::string& name);
std::string readString(const json& v, const std::string& name);
bool readBool(const json& v, const std::string& name);

// An object of string or number values.
ParameterMap readParameterMap(const json& v, const std::string& name);

} // namespace sfu::params::detail
