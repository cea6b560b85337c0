"""Error rates of recgym.ab's tests by simulation: A/A false positives, power at SPEC §5's design, and peeking.

Prints the figures quoted in docs/ab_testing.md (every draw seeded):

- the design of SPEC §5 (7 % baseline, +4 points, alpha 5 % two-sided, power 90 %);
- the false-positive rate of each fixed-horizon test over A/A experiments, and of the naive z-test
  that treats a user's impressions as independent trials;
- the power at the designed effect, with and without the continuity correction;
- the false-positive rate when an A/A test is looked at 50 times (every 100 users per arm, up to
  5,000) and stopped at the first significant look: the fixed-horizon z-test against the mSPRT.

Run: ``python examples/ab_error_rates.py [--experiments 2000]`` (about 15 s).
"""

from __future__ import annotations

import argparse

import numpy as np

from recgym.ab import sample_size_proportions, sequential_test, two_proportion_ztest, welch_ttest
from recgym.ab.analysis import ratio_ztest


def clustered_users(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Users with 1-15 impressions and their own click rate around 0.3 (a user's impressions are correlated)."""
    impressions = rng.integers(1, 16, n)
    rates = np.clip(rng.normal(0.3, 0.15, n), 0.01, 0.99)
    return rng.binomial(impressions, rates).astype(float), impressions.astype(float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", type=int, default=2000)
    args = parser.parse_args()
    n_exp = args.experiments
    rng = np.random.default_rng(2026)

    plain = sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9)
    corrected = sample_size_proportions(0.07, 0.04, alpha=0.05, power=0.9, continuity_correction=True)
    print(f"SPEC §5 design: {plain.n_a:,} users per group ({plain.exact_n_a:.2f}) without continuity correction, "
          f"{corrected.n_a:,} ({corrected.exact_n_a:.2f}) with it")

    counts = {"two-proportion z": 0, "Welch t": 0, "ratio z (delta method)": 0, "naive z on impressions": 0}
    for _ in range(n_exp):
        x_a, x_b = rng.binomial(plain.n_a, 0.07, 2)
        counts["two-proportion z"] += two_proportion_ztest(int(x_a), plain.n_a, int(x_b), plain.n_a).significant
        counts["Welch t"] += welch_ttest(rng.lognormal(0, 1, 300), rng.lognormal(0, 1, 400)).significant
        clicks_a, shown_a = clustered_users(rng, 400)
        clicks_b, shown_b = clustered_users(rng, 400)
        counts["ratio z (delta method)"] += ratio_ztest(clicks_a, shown_a, clicks_b, shown_b).significant
        counts["naive z on impressions"] += two_proportion_ztest(int(clicks_a.sum()), int(shown_a.sum()),
                                                                 int(clicks_b.sum()), int(shown_b.sum())).significant
    print(f"\nA/A false-positive rate at alpha 5 % ({n_exp:,} experiments each):")
    for name, count in counts.items():
        print(f"  {name:<24} {count / n_exp:6.1%}")

    print(f"\nPower at the designed effect (7 % vs 11 %, {n_exp:,} experiments):")
    for correction, size in ((False, plain), (True, corrected)):
        x_a, x_b = rng.binomial(size.n_a, 0.07, n_exp), rng.binomial(size.n_a, 0.11, n_exp)
        hits = np.mean([two_proportion_ztest(int(a), size.n_a, int(b), size.n_a, continuity_correction=correction).significant
                        for a, b in zip(x_a, x_b, strict=True)])
        label = "with Yates' correction" if correction else "without correction"
        print(f"  {size.n_a:,} per group, z-test {label:<22} {hits:6.1%} (planned 90 %)")

    looks = np.arange(100, 5001, 100)
    naive = sequential = 0
    for _ in range(n_exp):
        a = np.cumsum(rng.random(looks[-1]) < 0.07)[looks - 1] / looks
        b = np.cumsum(rng.random(looks[-1]) < 0.07)[looks - 1] / looks
        variances = (a * (1 - a) + b * (1 - b)) / looks
        naive += bool((np.abs(b - a) / np.sqrt(variances) > 1.959964).any())
        tau = 0.1 * np.sqrt((a * (1 - a) + b * (1 - b)) / 2)
        sequential += bool(sequential_test(b - a, variances, tau=tau).rejected.any())
    print(f"\nA/A looked at {len(looks)} times (every 100 users per arm up to 5,000), stopped at the first significant look:")
    print(f"  fixed-horizon z-test  {naive / n_exp:6.1%}")
    print(f"  mSPRT (tau = 0.1 sd)  {sequential / n_exp:6.1%}")


if __name__ == "__main__":
    main()
