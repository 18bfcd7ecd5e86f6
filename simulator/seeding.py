"""Stable seeds: the same parts give the same number in every process."""

from __future__ import annotations

import hashlib


def seed_int(*parts: object) -> int:
    """A stable 64-bit integer from the parts (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
