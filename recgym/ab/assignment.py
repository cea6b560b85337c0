"""Which arm a user is in: a keyed hash of (experiment seed, user id), so the answer never changes.

A user's arm depends only on the experiment's seed, its salt and the user's id: not on the
order users arrive in, on who else is in the experiment, or on the process or machine (BLAKE2b,
unlike Python's ``hash``, is not randomised per process). A user therefore stays in one arm
across sessions, and a re-run of the experiment with the same seed assigns everybody the same
way; another seed (or salt) gives an assignment independent of this one.

The hash maps each user to a number ``u`` in [0, 1): the top 53 bits of a 64-bit BLAKE2b digest
keyed with the seed. Users with ``u < treatment_share`` are in B, the others in A.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from recgym._validation import check_int
from recgym.ab._checks import check_open_unit

ARM_NAMES = ("A", "B")
"""Arm 0 is A (control), arm 1 is B (treatment)."""

_SCALE = 2.0**-53


def _key(seed: int, salt: str) -> bytes:
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(salt, str):
        raise ValueError(f"salt must be a string, got {salt!r}")
    # BLAKE2b keys are at most 64 bytes: the seed's 16 bytes, then the salt digested to 32.
    return seed.to_bytes(16, "little", signed=False) + hashlib.blake2b(salt.encode(), digest_size=32).digest()


def bucket_values(user_ids: Iterable[Any], seed: int, *, salt: str = "recgym-ab") -> np.ndarray:
    """Each user's hash value ``u`` in [0, 1), a function of (seed, salt, user id) only.

    Parameters
    ----------
    user_ids : iterable of int or str
        User ids (integers and strings are hashed by their decimal / text form).
    seed : int
        The experiment's seed (0 <= seed < 2**128).
    salt : str
        Distinguishes experiments that share a seed.

    Returns
    -------
    numpy.ndarray
        float64, one per user.
    """
    key = _key(seed, salt)
    ids = list(user_ids.tolist() if isinstance(user_ids, np.ndarray) else user_ids)
    for user in ids:
        if isinstance(user, bool) or not isinstance(user, (int, str, np.integer)):
            raise ValueError(f"user ids must be integers or strings, got {user!r}")
    values = np.fromiter(
        # The top 53 bits of a 64-bit digest: exactly representable, so u < 1 always.
        (int.from_bytes(hashlib.blake2b(str(user).encode(), digest_size=8, key=key).digest(), "little") >> 11 for user in ids),
        dtype=np.float64,
        count=len(ids),
    )
    return values * _SCALE


def assign_arms(user_ids: Iterable[Any], seed: int, *, treatment_share: float = 0.5, salt: str = "recgym-ab") -> np.ndarray:
    """The arm of each user: 0 (A, control) or 1 (B, treatment).

    Parameters
    ----------
    user_ids : iterable of int or str
    seed : int
        The experiment's seed.
    treatment_share : float
        Expected share of users in B, strictly between 0 and 1.
    salt : str
        Distinguishes experiments that share a seed.

    Returns
    -------
    numpy.ndarray
        int8, one per user.

    Examples
    --------
    >>> assign_arms([7, 7, 8], seed=1).tolist() == assign_arms([7], seed=1).tolist() * 2 + assign_arms([8], seed=1).tolist()
    True
    """
    share = check_open_unit("treatment_share", treatment_share)
    return (bucket_values(user_ids, seed, salt=salt) < share).astype(np.int8)
