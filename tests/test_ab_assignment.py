"""Assignment (recgym.ab.assignment): deterministic, stable per user, balanced, configurable, independent across seeds."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy import stats

from recgym.ab.assignment import assign_arms, bucket_values


def test_a_user_s_arm_depends_only_on_seed_and_id():
    users = np.arange(5000)
    arms = assign_arms(users, seed=3)
    shuffled = np.random.default_rng(0).permutation(users)
    assert (assign_arms(shuffled, seed=3) == arms[shuffled]).all()  # not on arrival order
    assert (assign_arms(users[::7], seed=3) == arms[::7]).all()  # not on who else is in the experiment
    assert (assign_arms(list(users[:50]) * 3, seed=3) == np.tile(arms[:50], 3)).all()  # every visit the same
    assert arms.dtype == np.int8 and set(np.unique(arms)) == {0, 1}


def test_value_is_the_keyed_blake2b_digest():
    key = (5).to_bytes(16, "little") + hashlib.blake2b(b"recgym-ab", digest_size=32).digest()
    digest = int.from_bytes(hashlib.blake2b(b"42", digest_size=8, key=key).digest(), "little")
    assert bucket_values([42], seed=5)[0] == (digest >> 11) / 2.0**53


@pytest.mark.parametrize("share", [0.5, 0.2, 0.9])
def test_split_is_balanced_to_the_requested_share(share):
    arms = assign_arms(range(20_000), seed=11, treatment_share=share)
    assert stats.binomtest(int(arms.sum()), len(arms), share).pvalue > 0.01


def test_hash_values_are_uniform_and_seeds_are_independent():
    values = bucket_values(range(20_000), seed=1)
    assert stats.kstest(values, "uniform").pvalue > 0.01
    a, b = assign_arms(range(20_000), seed=1), assign_arms(range(20_000), seed=2)
    agreement = float(np.mean(a == b))
    assert abs(agreement - 0.5) < 0.02
    other_salt = assign_arms(range(20_000), seed=1, salt="another experiment")
    assert abs(float(np.mean(a == other_salt)) - 0.5) < 0.02


def test_string_ids_work_and_match_integer_text():
    assert (assign_arms(["7", "8", "alice"], seed=0)[:2] == assign_arms([7, 8], seed=0)).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"user_ids": [1, 2], "seed": -1}, "seed"),
        ({"user_ids": [1, 2], "seed": 0, "treatment_share": 1.0}, "treatment_share"),
        ({"user_ids": [1, 2], "seed": 0, "treatment_share": 0.0}, "treatment_share"),
        ({"user_ids": [1.5], "seed": 0}, "user ids"),
        ({"user_ids": [1], "seed": 0, "salt": 3}, "salt"),
    ],
)
def test_bad_inputs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        assign_arms(**kwargs)
