"""Which env calls the server runs on its event loop, and which it hands to the thread pool: decided by their cost.

A call on the event loop holds up every other client while it runs; a call in the thread pool costs
a hand-over (about 0.1 ms of server CPU) and then contends with the loop for the GIL, which
lengthens the tail of every request. Measured with 32 closed-loop clients on the short-video
world, sending its unseeded resets (0.16 ms each, one request in eight) to the thread pool cut
the throughput from about 2,500 to 1,900 requests/s and raised the p99 from 24 to 64 ms. So a
call runs inline when it is known to be cheap, and in the thread pool otherwise:

- **World draws** always go to the thread pool: a new session, a seeded reset, a session's first
  reset and the rating protocol's ``/reset`` (milliseconds to seconds).
- **A rating env's step that starts a period in which the world changes** (arrivals or drift,
  :attr:`RatingsConfig.changes_between_periods`) goes to the thread pool (:func:`step_may_stall`):
  it recomputes users' best items, which took 4-25 ms on the default 1,000 x 1,000 world and
  0.1-0.5 s on 5,000 users x 20,000 items.
- **Everything else** (steps, predictions, unseeded resets) runs inline while :class:`CallCosts`,
  which times each such call's CPU, finds it under :data:`INLINE_BUDGET`. Their cost depends on
  the world the operator chose: a short-video step costs about 45 us on 3,000 and on 30,000
  videos alike, but an unseeded short-video reset retrieves a slate from the whole catalogue,
  0.16 ms at 3,000 videos and 14 ms at 30,000, so there resets go to the thread pool.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator

import gymnasium as gym

from recgym.envs.ratings import RatingsEnv

INLINE_BUDGET = 1e-3
"""Seconds of CPU a call may take and still run on the event loop (holding up every other client for that long)."""

DECAY = 0.95
"""Per call, how much of a kind's cost estimate remains: an expensive call keeps its kind in the thread pool for
about ``log(cost / INLINE_BUDGET) / -log(DECAY)`` calls (a 15 ms call: about 50)."""


def step_may_stall(env: gym.Env) -> bool:
    """Whether ``env``'s next step may take milliseconds or more, so that it must not run on the event loop.

    Parameters
    ----------
    env : gymnasium.Env
        A session's env (any wrappers).

    Returns
    -------
    bool
        True for a rating env whose next step starts a new period that changes the world; False otherwise.
        Read without the session's lock: it only decides where the step runs, never what it does.
    """
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, RatingsEnv):
        return False
    simulator = unwrapped.simulator
    # The step serves the pending request and draws the next one, which starts a period when none is left.
    return simulator is not None and simulator.config.changes_between_periods and simulator.requests_left_in_period == 0


class CallCosts:
    """What each kind of env call costs in this server, as measured, and whether it may run on the event loop.

    The estimate of a kind is a decaying maximum of the CPU time of its calls (``time.thread_time``,
    so time spent waiting for the GIL or preempted by other processes does not count): an expensive
    call raises it at once, and it falls back by :data:`DECAY` per call. A kind never measured is
    not known to be cheap, so its first call runs in the thread pool. All sessions of a server share
    one world configuration, hence one estimate per kind. Updates from several threads may race; a
    lost update only delays the estimate by one call.

    Parameters
    ----------
    budget : float
        Seconds of CPU under which a call runs inline (:data:`INLINE_BUDGET`).
    """

    def __init__(self, budget: float = INLINE_BUDGET) -> None:
        self.budget = budget
        self._estimates: dict[str, float] = {}

    def estimate(self, kind: str) -> float:
        """Seconds of CPU a call of ``kind`` is expected to take at most (``inf`` before the first one)."""
        return self._estimates.get(kind, math.inf)

    def inline(self, kind: str) -> bool:
        """Whether a call of ``kind`` is cheap enough to run on the event loop."""
        return self.estimate(kind) <= self.budget

    def record(self, kind: str, seconds: float) -> None:
        """Account for one call of ``kind`` that took ``seconds`` of CPU."""
        previous = self._estimates.get(kind)
        self._estimates[kind] = seconds if previous is None else max(seconds, DECAY * previous)

    @contextlib.contextmanager
    def timed(self, kind: str) -> Iterator[None]:
        """Time the CPU of the enclosed call (in the current thread) and :meth:`record` it, unless it raises."""
        start = time.thread_time()
        yield
        self.record(kind, time.thread_time() - start)
