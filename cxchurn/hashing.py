"""Stable per-id hashes: the same id and salt give the same number on every run and machine.

Used where customers must fall in a group by who they are, not by a random draw that depends
on the rest of the table: cross-fitting folds (``uplift.crossfit``) and the retention control
group (``serving.retention.policy.holdout_mask``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd


def stable_digests(ids: Sequence[object] | pd.Series, salt: object) -> np.ndarray:
    """A 64-bit BLAKE2b digest of ``"{salt}:{id}"`` per id (uint64), hashing each id once."""
    codes, unique = pd.factorize(pd.Series(ids, dtype=object).astype(str))
    digests = np.array([int.from_bytes(hashlib.blake2b(f"{salt}:{c}".encode(),
                                                       digest_size=8).digest(), "big")
                        for c in unique], dtype=np.uint64)
    return digests[codes] if len(codes) else np.zeros(0, dtype=np.uint64)
