#include "JsonFields.hpp"

#include "utils/Errors.hpp"

#include <cmath>
#include <limits>

namespace sfu::params::detail {

void throwMissing(const std::string& name) {
    throw TypeError("missing " + name);
}

void throwInvalid(const std::string& name) {
    throw TypeError("invalid " + name);
}

void requireObject(const json& v, const std::string& name) {
    if (!v.is_object()) {
        throwInvalid(name);
    }
}

const json* optionalField(const json& obj, std::string_view key) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

const json& requiredField(const json& obj, std::string_view key, const std::string& name) {
    const json* v = optionalField(obj, key);
    if (v == nullptr) {
        throwMissing(name);
    }
    return *v;
}

std::optional<uint64_t> asUnsigned(const json& v) {
    if (v.is_number_unsigned()) {
        return v.get<uint64_t>();
    }
    if (v.is_number_integer()) {
        const auto i = v.get<int64_t>();
        if (i < 0) {
            return std::nullopt;
        }
        return static_cast<uint64_t>(i);
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        // 2^64 is exact as a double; checking before the cast keeps it defined.
        if (!(d >= 0.0) || d >= 18446744073709551616.0 || d != std::trunc(d)) {
            return std::nullopt;
        }
        return static_cast<uint64_t>(d);
    }
    return std::nullopt;
}

uint64_t readUnsigned(const json& v, uint64_t min, uint64_t max, const std::string& name) {
    const auto u = asUnsigned(v);
    if (!u || *u < min || *u > max) {
        throwInvalid(name);
    }
    return *u;
}

double readNumber(const json& v, const std::string& name) {
    if (!v.is_number()) {
        throwInvalid(name);
    }
    const double d = v.get<double>();
    if (!std::isfinite(d)) {
        throwInvalid(name);
    }
    return d;
}

std::string readString(const json& v, const std::string& name) {
    if (!v.is_string()) {
        throwInvalid(name);
    }
    return v.get<std::string>();
}

bool readBool(const json& v, const std::string& name) {
    if (!v.is_boolean()) {
        throwInvalid(name);
    }
    return v.get<bool>();
}

ParameterMap readParameterMap(const json& v, const std::string& name) {
    requireObject(v, name);
    ParameterMap map;
    for (const auto& [key, value] : v.items()) {
        if (value.is_string()) {
            map.emplace(key, value.get<std::string>());
        } else if (value.is_number_unsigned()) {
            const auto u = value.get<uint64_t>();
            // Beyond int64 only a double can hold it.
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                map.emplace(key, static_cast<double>(u));
            } else {
                map.emplace(key, static_cast<int64_t>(u));
            }
        } else if (value.is_number_integer()) {
            map.emplace(key, value.get<int64_t>());
        } else if (value.is_number_float() && std::isfinite(value.get<double>())) {
            map.emplace(key, value.get<double>());
        } else {
            throwInvalid(name + "." + key);
        }
    }
    return map;
}

} // namespace sfu::params::detail
