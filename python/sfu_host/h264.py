"""H.264 ``profile-level-id`` handling (RFC 6184, section 8.1), as WebRTC
negotiates it."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional

PROFILE_CONSTRAINED_BASELINE = 1
PROFILE_BASELINE = 2
PROFILE_MAIN = 3
PROFILE_CONSTRAINED_HIGH = 4
PROFILE_HIGH = 5
PROFILE_PREDICTIVE_HIGH_444 = 6

#: Levels are ten times the level number, except level 1b.
LEVEL_1B = 0
LEVEL_1 = 10
LEVEL_1_1 = 11
LEVEL_3_1 = 31
_LEVELS = frozenset((10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52))

_CONSTRAINT_SET3_FLAG = 0x10


class ProfileLevelId(NamedTuple):
    """A profile and a level."""

    profile: int
    level: int


def _bit_pattern(pattern: str) -> "tuple[int, int]":
    mask = 0
    value = 0
    for ch in pattern:
        mask <<= 1
        value <<= 1
        if ch != "x":
            mask |= 1
        if ch == "1":
            value |= 1
    return mask, value


# (profile_idc, profile_iop pattern, profile)
_PATTERNS = [
    (0x42, _bit_pattern("x1xx0000"), PROFILE_CONSTRAINED_BASELINE),
    (0x4D, _bit_pattern("1xxx0000"), PROFILE_CONSTRAINED_BASELINE),
    (0x58, _bit_pattern("11xx0000"), PROFILE_CONSTRAINED_BASELINE),
    (0x42, _bit_pattern("x0xx0000"), PROFILE_BASELINE),
    (0x58, _bit_pattern("10xx0000"), PROFILE_BASELINE),
    (0x4D, _bit_pattern("0x0x0000"), PROFILE_MAIN),
    (0x64, _bit_pattern("00000000"), PROFILE_HIGH),
    (0x64, _bit_pattern("00001100"), PROFILE_CONSTRAINED_HIGH),
    (0xF4, _bit_pattern("00000000"), PROFILE_PREDICTIVE_HIGH_444),
]

_DEFAULT = ProfileLevelId(PROFILE_CONSTRAINED_BASELINE, LEVEL_3_1)


def _leading_hex(text: str) -> Optional[int]:
    """The value of the leading hexadecimal digits of ``text``, read the
    way JavaScript's ``parseInt(text, 16)`` reads them."""
    s = text.strip()
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s[:2].lower() == "0x":
        s = s[2:]
    digits = ""
    for ch in s:
        if ch in "0123456789abcdefABCDEF":
            digits += ch
        else:
            break
    return sign * int(digits, 16) if digits else None


def parse_profile_level_id(text: Any) -> Optional[ProfileLevelId]:
    """Parses a profile-level-id of three hex bytes; ``None`` if it is not
    a recognised one."""
    if not isinstance(text, str) or len(text) != 6:
        return None
    numeric = _leading_hex(text)
    if numeric is None or numeric == 0:
        return None
    numeric &= 0xFFFFFFFF
    level_idc = numeric & 0xFF
    profile_iop = (numeric >> 8) & 0xFF
    profile_idc = (numeric >> 16) & 0xFF
    if level_idc == LEVEL_1_1:
        level = LEVEL_1B if profile_iop & _CONSTRAINT_SET3_FLAG else LEVEL_1_1
    elif level_idc in _LEVELS:
        level = level_idc
    else:
        return None
    for idc, (mask, value), profile in _PATTERNS:
        if profile_idc == idc and (profile_iop & mask) == value:
            return ProfileLevelId(profile, level)
    return None


def profile_level_id_to_string(plid: ProfileLevelId) -> Optional[str]:
    """The canonical three hex bytes of ``plid``; ``None`` if invalid."""
    if plid.level == LEVEL_1B:
        return {PROFILE_CONSTRAINED_BASELINE: "42f00b", PROFILE_BASELINE: "42100b",
                PROFILE_MAIN: "4d100b"}.get(plid.profile)
    prefix = {PROFILE_CONSTRAINED_BASELINE: "42e0", PROFILE_BASELINE: "4200",
              PROFILE_MAIN: "4d00", PROFILE_CONSTRAINED_HIGH: "640c", PROFILE_HIGH: "6400",
              PROFILE_PREDICTIVE_HIGH_444: "f400"}.get(plid.profile)
    if prefix is None:
        return None
    return f"{prefix}{plid.level:02x}"


def parse_sdp_profile_level_id(params: Mapping[str, Any]) -> Optional[ProfileLevelId]:
    """The profile-level-id of codec parameters (constrained baseline 3.1
    when absent, as WebRTC assumes); ``None`` if present but invalid."""
    value = params.get("profile-level-id")
    if not value:
        return _DEFAULT
    return parse_profile_level_id(value)


def is_same_profile(params1: Mapping[str, Any], params2: Mapping[str, Any]) -> bool:
    """Whether both codec parameters have the same H.264 profile."""
    a = parse_sdp_profile_level_id(params1)
    b = parse_sdp_profile_level_id(params2)
    return a is not None and b is not None and a.profile == b.profile


def _level_asymmetry_allowed(params: Mapping[str, Any]) -> bool:
    value = params.get("level-asymmetry-allowed")
    return value == 1 and not isinstance(value, bool) or value == "1"


def _is_less_level(a: int, b: int) -> bool:
    if a == LEVEL_1B:
        return b not in (LEVEL_1, LEVEL_1B)
    if b == LEVEL_1B:
        return a != LEVEL_1
    return a < b


def generate_profile_level_id_for_answer(local: Mapping[str, Any],
                                         remote: Mapping[str, Any]) -> Optional[str]:
    """The profile-level-id to answer ``remote`` with, given what is
    supported locally; ``None`` when neither has one. Raises
    :class:`ValueError` when they are invalid or of different profiles."""
    if not local.get("profile-level-id") and not remote.get("profile-level-id"):
        return None
    local_plid = parse_sdp_profile_level_id(local)
    remote_plid = parse_sdp_profile_level_id(remote)
    if local_plid is None:
        raise ValueError("invalid local profile-level-id")
    if remote_plid is None:
        raise ValueError("invalid remote profile-level-id")
    if local_plid.profile != remote_plid.profile:
        raise ValueError("H264 profile mismatch")
    asymmetry = _level_asymmetry_allowed(local) and _level_asymmetry_allowed(remote)
    min_level = local_plid.level if _is_less_level(local_plid.level, remote_plid.level) \
        else remote_plid.level
    level = local_plid.level if asymmetry else min_level
    return profile_level_id_to_string(ProfileLevelId(local_plid.profile, level))
