"""Latency and throughput of ``recgym serve`` under concurrent clients on loopback (issue 9).

Each phase starts the real server (``recgym serve``, a separate process) and drives it with
``--clients`` concurrent clients for ``--duration`` seconds. Every client has its own session and
its own keep-alive connection (an ``aiohttp`` client session, on one uvloop event loop). With
``--pause-ms 0`` a client sends its next request as soon as the previous answer arrives (closed
loop): the figures are those of a saturated server. With ``--pause-ms 50`` it waits 50 ms first,
as the course told its students to. A probe asks ``/health``, answered on the server's event
loop, every 20 ms.

- ``protocol``: the course's rating protocol on ``RecGym-Ratings-v0`` (1,000 users x 1,000
  items): ``GET /reset?user_id=...`` once (setup), then ``GET /predict`` with a running-mean
  predictor.
- ``gym``: Gymnasium over HTTP on ``RecGym-ShortVideo-v0``: ``POST /sessions`` and a seeded
  ``POST .../reset`` (setup: it draws a world), then ``POST .../step`` with uniformly random
  actions, and an unseeded reset whenever an episode ends.

Latency percentiles are over the requests after setup; setup is reported apart. The load
generator runs on the same machine and competes with the server for the CPUs.

    python benchmarks/bench_serve.py            # both phases, closed loop and 50 ms pauses, 32 clients, 30 s each
    python benchmarks/bench_serve.py --quick    # a smoke run: 8 clients, 2 s each
    python benchmarks/bench_serve.py --plot docs/img/serve_latency.png --overwrite   # the figure in docs/serve.md

Needs ``pip install -e '.[dev,serve]'`` (the dev extra has aiohttp, a much cheaper client than
httpx, which leaves more of the shared CPUs to the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date

import numpy as np

try:
    import aiohttp
    import uvloop
except ImportError as error:
    raise SystemExit(f"bench_serve.py needs the dev and serve extras: pip install -e '.[dev,serve]' ({error})") from None

PHASES = {
    "protocol": ("RecGym-Ratings-v0", {}),
    "gym": ("RecGym-ShortVideo-v0", {}),
}


def start_server(env_id: str, env_kwargs: dict, max_clients: int) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "recgym.cli", "serve", "--env", env_id, "--port", "0", "--seed", "0",
               "--max-clients", str(max_clients), "--env-kwargs", json.dumps(env_kwargs)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    banner = process.stdout.readline()
    if " at http://" not in banner:
        process.kill()
        raise RuntimeError(f"the server did not start: {banner!r}")
    return process, banner.split(" at ")[1].split(" ")[0]


class Recorder:
    """Latencies of one kind of request, and the errors."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []

    async def request(self, http: aiohttp.ClientSession, method: str, path: str, **kwargs) -> dict | None:
        start = time.perf_counter()
        try:
            async with http.request(method, path, **kwargs) as answer:
                body = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.errors.append(f"{method} {path}: {error!r}")
            return None
        self.latencies.append(time.perf_counter() - start)
        if not 200 <= status < 300:
            self.errors.append(f"{method} {path}: {status} {body[:100]!r}")
            return None
        return json.loads(body)


async def protocol_client(k: int, url: str, stop: float, pause: float, recorder: Recorder, setup: Recorder) -> None:
    user_id = f"bench-{k}"
    async with aiohttp.ClientSession(url) as http:
        if await setup.request(http, "GET", "/reset", params={"user_id": user_id, "seed": k}) is None:
            return
        total, count = 0.0, 0
        while time.perf_counter() < stop:
            prediction = total / count if count else 0.0  # a running mean of the ratings seen
            answer = await recorder.request(http, "GET", "/predict",
                                            params={"user_id": user_id, "predicted_score": repr(prediction)})
            if answer is not None:
                total += answer["rating"]
                count += 1
            if pause:
                await asyncio.sleep(pause)


async def gym_client(k: int, url: str, stop: float, pause: float, recorder: Recorder, setup: Recorder) -> None:
    rng = np.random.default_rng(k)
    async with aiohttp.ClientSession(url) as http:
        created = await setup.request(http, "POST", "/sessions")
        if created is None:
            return
        session = f"/sessions/{created['client_id']}"
        n_actions = created["action_space"]["n"]
        if await setup.request(http, "POST", f"{session}/reset", json={"seed": k}) is None:  # draws the world
            return
        path, body = f"{session}/step", {"action": int(rng.integers(n_actions))}
        while time.perf_counter() < stop:
            answer = await recorder.request(http, "POST", path, json=body)
            if answer is not None and not (answer.get("terminated") or answer.get("truncated")):
                path, body = f"{session}/step", {"action": int(rng.integers(n_actions))}
            else:
                path, body = f"{session}/reset", {}
            if pause:
                await asyncio.sleep(pause)
        async with http.delete(session):
            pass


async def probe(url: str, stop: float, recorder: Recorder) -> None:
    async with aiohttp.ClientSession(url) as http:
        while time.perf_counter() < stop:
            await recorder.request(http, "GET", "/health")
            await asyncio.sleep(0.02)


async def drive(phase: str, url: str, clients: int, duration: float, pause: float) -> dict:
    client = protocol_client if phase == "protocol" else gym_client
    recorder, setup, health = Recorder(), Recorder(), Recorder()
    for _ in range(200):  # wait until the server answers
        try:
            async with aiohttp.ClientSession(url) as http, http.get("/health") as answer:
                await answer.read()
                break
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    stop = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(*(client(k, url, stop, pause, recorder, setup) for k in range(clients)),
                         probe(url, stop, health))
    elapsed = time.perf_counter() - started
    errors = setup.errors + recorder.errors + health.errors
    if not recorder.latencies or not health.latencies:
        raise RuntimeError(f"no request succeeded: {errors[:3]}")
    ms = np.asarray(recorder.latencies) * 1e3
    probe_ms = np.asarray(health.latencies) * 1e3
    return {
        "requests": len(ms),
        "requests_per_s": len(ms) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "errors": len(errors),
        "first_errors": errors[:3],
        "setup_median_ms": float(np.median(setup.latencies)) * 1e3,
        "setup_max_ms": float(np.max(setup.latencies)) * 1e3,
        "latencies_ms": ms,
        "probe_p50_ms": float(np.percentile(probe_ms, 50)),
        "probe_p99_ms": float(np.percentile(probe_ms, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--phases", nargs="+", choices=list(PHASES), default=list(PHASES))
    parser.add_argument("--pause-ms", nargs="+", type=float, default=[0.0, 50.0],
                        help="pause of each client between an answer and its next request: 0 = closed loop (saturation); "
                        "50 = the course's advice to students (default: both)")
    parser.add_argument("--quick", action="store_true", help="8 clients, 2 s per phase: checks that it runs")
    parser.add_argument("--plot", metavar="PNG", help="also draw the latency distributions into this file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --plot file")
    args = parser.parse_args()
    clients, duration = (8, 2.0) if args.quick else (args.clients, args.duration)
    print(f"recgym serve on loopback, {clients} concurrent clients, {duration:g} s per run; {os.cpu_count()} CPUs shared "
          f"by the server and the load generator; Python {platform.python_version()}, {date.today()}; load average "
          f"before: {os.getloadavg()[0]:.1f}")
    rows = []
    for phase in args.phases:
        for pause_ms in args.pause_ms:
            env_id, env_kwargs = PHASES[phase]
            process, url = start_server(env_id, env_kwargs, max_clients=clients + 8)
            try:
                result = uvloop.run(drive(phase, url, clients, duration, pause_ms / 1e3))
            finally:
                process.terminate()
                process.wait(timeout=30)
            rows.append((phase, env_id, pause_ms, result))
            if result["first_errors"]:
                print(f"  {phase}: first errors {result['first_errors']}")
    print(f"{'phase':<9} {'env':<21} {'pause':>5} {'requests':>8} {'req/s':>6} {'p50 ms':>6} {'p99 ms':>6} {'max ms':>6} "
          f"{'errors':>6}  {'/health p50/p99':>15}  {'setup median/max':>16}")
    for phase, env_id, pause_ms, r in rows:
        print(f"{phase:<9} {env_id:<21} {pause_ms:>5g} {r['requests']:>8,} {r['requests_per_s']:>6,.0f} {r['p50_ms']:>6.1f} "
              f"{r['p99_ms']:>6.1f} {r['max_ms']:>6.0f} {r['errors']:>6}  {r['probe_p50_ms']:>6.1f} / {r['probe_p99_ms']:<6.1f}"
              f"  {r['setup_median_ms']:>7.0f} / {r['setup_max_ms']:.0f}")
    print(f"load average after: {os.getloadavg()[0]:.1f} (other jobs on the machine inflate the tail)")
    for phase, _, pause_ms, r in rows:
        verdict = "met" if r["p99_ms"] < 50 and r["errors"] == 0 else "NOT met"
        print(f"goal p99 < 50 ms with zero errors ({phase}, pause {pause_ms:g} ms): {verdict}")
    if args.plot:
        print(f"figure written to {plot(rows, clients, args.plot, args.overwrite)}")


def plot(rows: list, clients: int, path: str, overwrite: bool) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recgym.data.files import write_new_file

    figure, axis = plt.subplots(figsize=(7.5, 4.2))
    for phase, env_id, pause_ms, r in rows:
        ms = np.sort(r["latencies_ms"])
        share_slower = 1.0 - np.arange(len(ms)) / len(ms)
        label = f"{phase} ({env_id}), {'closed loop' if pause_ms == 0 else f'{pause_ms:g} ms pauses'}: " \
                f"{r['requests_per_s']:,.0f} req/s"
        axis.loglog(ms, share_slower, label=label, color="C0" if phase == "protocol" else "C3",
                    linestyle="-" if pause_ms == 0 else "--")
    axis.axvline(50, color="grey", linewidth=0.8)
    axis.axhline(0.01, color="grey", linewidth=0.8, linestyle=":")
    axis.text(52, 0.5, "50 ms", color="grey")
    axis.text(axis.get_xlim()[0] * 1.1, 0.012, "p99", color="grey")
    axis.set_xlabel("latency (ms)")
    axis.set_ylabel("share of requests slower")
    axis.set_title(f"recgym serve, {clients} concurrent clients on loopback, 2-core machine shared with the clients",
                   fontsize=9)
    axis.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    written = write_new_file(path, lambda temporary: figure.savefig(temporary, format="png", dpi=110), overwrite=overwrite)
    plt.close(figure)
    return str(written)

if __name__ == "__main__":
    main()
