"""The response model of SPEC §1: p = clip(U + 0.3 * interest + location effect, 0, 1), then the outcome draw.

Frequencies are compared with closed forms within 5 standard errors of ~100k seeded draws.
"""

import numpy as np
import pytest
from helpers import binomial_tolerance, expected_clipped_standard_uniform, expected_clipped_uniform

from recgym.simulators.short_video import LIKED, SESSION_END, SKIPPED, WATCHED, ShortVideoConfig, ShortVideoSimulator
from recgym.simulators.short_video.response import (
    continuation_probability,
    sample_history_outcomes,
    sample_session_outcomes,
)

N_DRAWS = 100_000

# (case, is_interest, location effect) -> shift of the uniform base propensity
CASES = {
    "in_interest": (True, 0.0),
    "location_bonus": (False, 0.1),
    "location_penalty": (False, -0.2),
    "neutral": (False, 0.0),
    "interest_and_bonus": (True, 0.1),
    "interest_and_penalty": (True, -0.2),
}
SPEC_LOCATION_EFFECTS = {
    ("west", "tech"): 0.1,
    ("mid", "animals"): 0.1,
    ("east", "food"): 0.1,
    ("west", "educational"): -0.2,
    ("mid", "news"): -0.2,
    ("east", "tech"): -0.2,
}


def assert_frequency(outcomes, code, expected, n, label):
    observed = float(np.mean(outcomes == code))
    tolerance = binomial_tolerance(expected, n)
    assert abs(observed - expected) <= tolerance, f"{label}: observed {observed:.4f}, expected {expected:.4f} ± {tolerance:.4f}"


def test_closed_form_reference_is_right():
    # E[clip(U + s, 0, 1)] = s + (1 - s^2) / 2 for 0 <= s <= 1 and (1 + s)^2 / 2 for -1 <= s <= 0.
    for shift in (0.0, 0.1, 0.3, 0.4, 1.0):
        assert expected_clipped_uniform(shift) == pytest.approx(shift + (1 - shift**2) / 2, abs=1e-9)
    for shift in (-0.2, -0.5, -1.0):
        assert expected_clipped_uniform(shift) == pytest.approx((1 + shift) ** 2 / 2, abs=1e-9)
    shifts = np.linspace(-1.5, 1.5, 61)
    np.testing.assert_allclose(expected_clipped_standard_uniform(shifts),
                               [expected_clipped_uniform(s) for s in shifts], atol=1e-9)


def test_continuation_probability_is_the_clipped_sum(rng):
    n = 10_000
    base = rng.random(n)
    is_interest = rng.random(n) < 0.5
    location = rng.choice([-0.2, 0.0, 0.1], size=n)
    shift = rng.uniform(-1.0, 1.0, size=n)
    p = continuation_probability(base, is_interest, location, 0.3, shift)
    np.testing.assert_array_equal(p, np.clip(base + 0.3 * is_interest + location + shift, 0.0, 1.0))
    assert p.min() == 0.0 and p.max() == 1.0  # both clips are exercised


def test_penalty_clips_at_zero_so_outcome_weights_stay_valid(rng):
    # The seed only capped at 1: a base of 0.05 with the -0.2 penalty gave p = -0.15 and a weight
    # (1 - p) / 3 > 1/3 for each alternative. recgym clips at 0.
    n = N_DRAWS
    base = rng.uniform(0.0, 0.2, size=n)
    p = continuation_probability(base, np.zeros(n, dtype=bool), np.full(n, -0.2), 0.3)
    assert np.all(p == 0.0)
    outcomes = sample_session_outcomes(p, rng.random(n))
    assert not np.any(outcomes == WATCHED)
    for code in (SKIPPED, LIKED, SESSION_END):
        assert_frequency(outcomes, code, 1 / 3, n, f"outcome {code} at p = 0")


@pytest.mark.parametrize("p", [0.0, 0.25, 0.7, 1.0])
def test_outcome_draw_is_exact_on_a_uniform_grid(p):
    # Feeding evenly spaced uniforms removes sampling noise: shares are exact up to the grid step.
    n = 120_000
    uniforms = (np.arange(n) + 0.5) / n
    probability = np.full(n, p)
    session = sample_session_outcomes(probability, uniforms)
    history = sample_history_outcomes(probability, uniforms)
    step = 2.0 / n
    assert np.mean(session == WATCHED) == pytest.approx(p, abs=step)
    for code in (SKIPPED, LIKED, SESSION_END):
        assert np.mean(session == code) == pytest.approx((1 - p) / 3, abs=step)
    assert np.mean(history == WATCHED) == pytest.approx(p, abs=step)
    for code in (SKIPPED, LIKED):
        assert np.mean(history == code) == pytest.approx((1 - p) / 2, abs=step)
    assert not np.any(history == SESSION_END)


@pytest.mark.parametrize("case", list(CASES))
def test_session_outcome_frequencies_match_spec(case, rng):
    is_interest, location_effect = CASES[case]
    n = N_DRAWS
    p = continuation_probability(rng.random(n), np.full(n, is_interest), np.full(n, location_effect), 0.3)
    outcomes = sample_session_outcomes(p, rng.random(n))
    mean_p = expected_clipped_uniform(0.3 * is_interest + location_effect)
    assert_frequency(outcomes, WATCHED, mean_p, n, f"{case} watched")
    for code in (SKIPPED, LIKED, SESSION_END):
        assert_frequency(outcomes, code, (1 - mean_p) / 3, n, f"{case} outcome {code}")


@pytest.mark.parametrize("case", ["in_interest", "location_bonus", "location_penalty", "neutral"])
def test_history_outcome_frequencies_match_spec(case, rng):
    is_interest, location_effect = CASES[case]
    n = N_DRAWS
    p = continuation_probability(rng.random(n), np.full(n, is_interest), np.full(n, location_effect), 0.3)
    outcomes = sample_history_outcomes(p, rng.random(n))
    mean_p = expected_clipped_uniform(0.3 * is_interest + location_effect)
    assert_frequency(outcomes, WATCHED, mean_p, n, f"{case} watched")
    for code in (SKIPPED, LIKED):
        assert_frequency(outcomes, code, (1 - mean_p) / 2, n, f"{case} outcome {code}")
    assert not np.any(outcomes == SESSION_END)


# ---------------------------------------------------------------------------- the full simulator
def _case_categories(simulator, case, rng):
    """For each user, a category realising ``case`` (or -1 where the user has none)."""
    config = simulator.config
    interest = simulator.users.interest_mask
    effects = config.location_effect_matrix()[simulator.users.location]  # (n_users, n_categories)
    wanted_interest, wanted_effect = CASES[case]
    ok = (interest == wanted_interest) & np.isclose(effects, wanted_effect)
    choice = np.full(len(interest), -1)
    for user in np.flatnonzero(ok.any(axis=1)):
        choice[user] = rng.choice(np.flatnonzero(ok[user]))
    return choice


def _simulate_case(simulator, case_category, rng, n_draws):
    """Show each eligible user videos of their case category until ``n_draws`` responses are recorded."""
    videos_by_category = [np.flatnonzero(simulator.videos.category == c) for c in range(simulator.config.n_categories)]
    slots = np.arange(simulator.n_slots)
    simulator.start_sessions(slots, rng)
    outcomes, expected = [], []
    total = 0
    while total < n_draws:
        active = slots[simulator.slot_active]
        categories = case_category[simulator.sessions.user[active]]
        eligible = categories >= 0
        active, categories = active[eligible], categories[eligible]
        videos = np.array([rng.choice(videos_by_category[c]) for c in categories])
        expected.append(simulator.expected_continuation(active, videos))
        result = simulator.respond(active, videos, np.zeros(len(active), dtype=np.int64), rng)
        outcomes.append(result.outcomes)
        total += len(active)
        ended = slots[~simulator.slot_active]
        if len(ended):
            simulator.start_sessions(ended, rng)
    return np.concatenate(outcomes), np.concatenate(expected)


@pytest.mark.parametrize("case", ["in_interest", "location_bonus", "location_penalty", "neutral"])
def test_simulator_respond_frequencies_match_spec(case):
    config = ShortVideoConfig(n_users=2000, n_videos=400)
    assert config.location_effects == SPEC_LOCATION_EFFECTS
    rng = np.random.default_rng(7)
    simulator = ShortVideoSimulator(config, n_slots=2000, rng=rng)
    case_category = _case_categories(simulator, case, rng)
    assert np.sum(case_category >= 0) > 300  # enough users realise the case
    outcomes, expected = _simulate_case(simulator, case_category, rng, N_DRAWS)
    n = len(outcomes)
    is_interest, location_effect = CASES[case]
    mean_p = expected_clipped_uniform(0.3 * is_interest + location_effect)
    # The simulator's own closed form agrees with the reference for every draw of this case ...
    np.testing.assert_allclose(expected, mean_p, atol=1e-6)
    # ... and the observed outcome frequencies agree with both.
    assert_frequency(outcomes, WATCHED, mean_p, n, f"{case} watched")
    for code in (SKIPPED, LIKED, SESSION_END):
        assert_frequency(outcomes, code, (1 - mean_p) / 3, n, f"{case} outcome {code}")


def test_simulator_history_frequencies_match_spec():
    # The historical log draws 3 outcomes with weights [p, (1-p)/2, (1-p)/2].
    config = ShortVideoConfig(n_users=3000, n_videos=400)
    simulator = ShortVideoSimulator(config, n_slots=1, rng=np.random.default_rng(99))
    columns = simulator.log.columns()
    users, videos, outcomes = columns["user_id"], columns["vid_id"], columns["action"]
    categories = simulator.videos.category[videos]
    shift = 0.3 * simulator.users.interest_mask[users, categories]
    shift = shift + config.location_effect_matrix()[simulator.users.location[users], categories]
    assert not np.any(outcomes == SESSION_END)
    for value in np.unique(np.round(shift, 6)):
        rows = np.isclose(shift, value)
        n = int(rows.sum())
        mean_p = expected_clipped_uniform(value)
        assert_frequency(outcomes[rows], WATCHED, mean_p, n, f"history shift {value} watched")
        for code in (SKIPPED, LIKED):
            assert_frequency(outcomes[rows], code, (1 - mean_p) / 2, n, f"history shift {value} outcome {code}")


@pytest.mark.parametrize(
    ("base_propensity_range", "interest_bonus"),
    [((0.0, 1.0), 0.3), ((0.2, 0.7), 0.6), ((0.0, 0.3), 0.9), ((0.5, 0.5), 0.3)],
)
def test_expected_continuation_matches_quadrature_and_monte_carlo(base_propensity_range, interest_bonus):
    effects = {("west", "tech"): 0.4, ("mid", "news"): -0.6, ("east", "food"): -0.1}
    config = ShortVideoConfig(
        n_users=600, n_videos=300, base_propensity_range=base_propensity_range,
        interest_bonus=interest_bonus, location_effects=effects,
    )
    rng = np.random.default_rng(3)
    simulator = ShortVideoSimulator(config, n_slots=600, rng=rng)
    slots = np.arange(600)
    users = simulator.start_sessions(slots, rng)
    videos = rng.integers(0, config.n_videos, size=600)
    categories = simulator.videos.category[videos]
    shift = interest_bonus * simulator.users.interest_mask[users, categories]
    shift = shift + config.location_effect_matrix()[simulator.users.location[users], categories]
    low, high = base_propensity_range
    levels, index = np.unique(np.round(shift, 9), return_inverse=True)
    reference = np.array([expected_clipped_uniform(level, low, high) for level in levels])[index]
    np.testing.assert_allclose(simulator.expected_continuation(slots, videos), reference, atol=1e-6)

    # Monte Carlo: show the same (slot, video) pairs 200 times each (sessions restarted in place).
    watched = np.zeros(600)
    repeats = 200
    for _ in range(repeats):
        simulator.sessions.step[:] = 0
        simulator.slot_active[:] = True
        simulator.in_session[users] = True
        result = simulator.respond(slots, videos, np.zeros(600, dtype=np.int64), rng)
        watched += result.outcomes == WATCHED
    n = 600 * repeats
    pooled = float(reference.mean())
    standard_error = np.sqrt(np.sum(reference * (1 - reference)) * repeats) / n
    assert abs(watched.sum() / n - pooled) <= 5 * standard_error + 1e-12
