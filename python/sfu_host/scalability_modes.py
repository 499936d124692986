"""Scalability modes (``L1T3``, ``S3T3``, ``L3T3_KEY`` ...)."""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

_MODE_RE = re.compile(r"^[LS]([1-9]\d?)T([1-9]\d?)(_KEY)?")


class ScalabilityMode(NamedTuple):
    """Numbers of spatial and temporal layers, and whether it is K-SVC."""

    spatial_layers: int
    temporal_layers: int
    ksvc: bool


def parse_scalability_mode(mode: Optional[str]) -> ScalabilityMode:
    """Parses a scalability mode; anything unrecognised is ``L1T1``."""
    match = _MODE_RE.match(mode) if isinstance(mode, str) else None
    if match is None:
        return ScalabilityMode(1, 1, False)
    return ScalabilityMode(int(match.group(1)), int(match.group(2)), match.group(3) is not None)
