"""The ``recgym`` command line: ``demo``, ``train``, ``serve``, ``experiment bandits`` and ``ab``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd

from recgym.envs.registration import ENV_IDS, SHORT_VIDEO_IDS

TRAIN_AGENTS = ("dqn", "ddpg", "sb3-dqn", "sb3-ppo", "sb3-a2c", "sb3-td3", "sb3-sac")
"""Agents of ``recgym train`` (``agents.train_run.AGENTS``, repeated here so that the parser needs no agents import)."""
BANDIT_AGENTS = ("thompson", "thompson-seed", "als", "epsilon-greedy", "als-spark", "popularity", "random", "oracle")
"""Agents of ``recgym experiment bandits`` (``agents.bandit_experiment.AGENTS``, repeated for the same reason)."""
BANDIT_DEFAULT_AGENTS = ("thompson", "als", "epsilon-greedy", "popularity", "random", "oracle")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in 0..65535 (0: any free port), got {text!r}")
    return value


def _open_unit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1, got {text!r}")
    return value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"must be a JSON object such as '{{\"n_users\": 50}}', got {text!r} ({error})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object such as '{{\"n_users\": 50}}', got {text!r}")
    return value


def _demo(args: argparse.Namespace) -> int:
    # Agents sit above the environments, so the CLI imports them only when a command needs them.
    from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
    from agents.evaluation import run_sessions, summarise

    policies = {
        "random": lambda env: RandomPolicy(env, seed=args.seed),
        "greedy (business score)": GreedyBusinessPolicy,
        "category rotation": CategoryRotationPolicy,
    }
    rows = []
    for env_id in args.env:
        for name, make_policy in policies.items():
            sessions = run_sessions(env_id, make_policy, sessions=args.sessions, seed=args.seed, num_envs=args.num_envs)
            rows.append({"env": env_id, "policy": name, **summarise(sessions)})
    table = pd.DataFrame(rows)
    formatted = table.assign(
        mean_return=[f"{m:.2f} ± {se:.2f}" for m, se in zip(table["mean_return"], table["return_se"], strict=True)],
        **{c: table[c].map("{:.1%}".format) for c in ("watched_rate", "liked_rate", "skipped_rate")},
        mean_steps=table["mean_steps"].map("{:.2f}".format),
        watch_seconds=table["watch_seconds"].map("{:.1f}".format),
    ).drop(columns="return_se")
    print(f"{args.sessions} sessions per policy, seed {args.seed} (mean return ± standard error)")
    print(formatted.to_string(index=False))
    return 0


def _train(args: argparse.Namespace) -> int:
    # Agents sit above the environments, so the CLI imports them only when a command needs them.
    from agents.comparison import format_comparison
    from agents.train_run import train_and_compare

    result = train_and_compare(
        args.env,
        args.agent,
        args.steps,
        logdir=args.logdir,
        seed=args.seed,
        run_name=args.run_name,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        eval_seed=args.eval_seed,
        num_envs=args.num_envs,
        env_kwargs=args.env_kwargs,
        agent_config=args.agent_config,
        progress_bar=not args.no_progress,
    )
    config, training = result.config, result.training
    print(
        f"{args.agent.upper()} on {args.env}, seed {args.seed}: {training.num_timesteps:,} env steps in "
        f"{training.wall_seconds:.0f} s with evaluations ({training.steps_per_second:,.0f} steps/s without them)"
    )
    print(
        f"evaluated on {config['eval_episodes']:,} episodes of world seed {config['eval_seed']} "
        "(mean return ± standard error, rates per step):"
    )
    print(format_comparison(result.table))
    print(f"run written to {result.run_dir}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    # The server's libraries are the optional ``serve`` extra, imported only by this command.
    try:
        from recgym.serve.app import create_app
        from recgym.serve.server import DEFAULT_HOST, bind, serve_forever, url_of
    except ImportError as error:
        raise ValueError(f"recgym serve needs the serve extra ({error.name} is not installed): pip install 'recgym[serve]'") \
            from None
    app = create_app(
        args.env,
        env_kwargs=args.env_kwargs,
        max_clients=args.max_clients,
        idle_timeout=args.idle_timeout,
        max_body_bytes=args.max_body_bytes,
        seed=args.seed,
    )
    try:
        sock = bind(args.host, args.port)
    except (OSError, OverflowError) as error:
        raise ValueError(f"cannot listen on --host {args.host} --port {args.port}: {error}") from None
    url = url_of(sock)
    if args.host != DEFAULT_HOST:
        print(f"warning: listening on {args.host}, not only on this machine's loopback: anyone who can reach it can "
              "use the server", file=sys.stderr)
    print(f"recgym serves {args.env} at {url} (API docs {url}/docs, schema {url}/openapi.json); server seed "
          f"{app.state.seed}; at most {args.max_clients} clients, idle ones dropped after {args.idle_timeout:g} s. "
          "Ctrl-C stops it.", flush=True)
    serve_forever(app, sock, access_log=args.access_log)
    return 0


def _experiment_bandits(args: argparse.Namespace) -> int:
    # Agents sit above the environments, so the CLI imports them only when a command needs them.
    from agents.bandit_experiment import format_summary, run_bandit_experiment

    try:
        result = run_bandit_experiment(
            args.agents,
            n_users=args.n_users,
            n_items=args.n_items,
            n_features=args.n_features,
            n_periods=args.periods,
            seeds=args.seeds,
            logdir=args.logdir,
            run_name=args.run_name,
            epsilon=args.epsilon,
            epsilon_decay=args.epsilon_decay,
            agent_options=args.agent_options,
            env_kwargs=args.env_kwargs,
            spark_master=args.spark_master,
            progress_bar=not args.no_progress,
        )
    except ImportError as error:  # als-spark without the spark extra: a usage error naming the install command
        raise ValueError(str(error)) from None
    seeds = ", ".join(map(str, args.seeds))
    print(f"{args.n_users:,} users x {args.n_items:,} items, {args.n_features} features, {args.periods} periods, "
          f"world seed(s) {seeds} (mean ± standard deviation over seeds; best item on average: regret "
          f"{result.population_best_regret:.3f}):")
    print(format_summary(result.summary))
    print(f"run written to {result.run_dir}")
    return 0


def _ab(args: argparse.Namespace) -> int:
    # Agents sit above the environments, so the CLI imports them only when a command needs them.
    from agents.ab_test import format_summary, run_ab_test

    result = run_ab_test(
        args.a,
        args.b,
        args.env,
        args.users,
        seed=args.seed,
        visits_per_user=args.visits_per_user,
        num_envs=args.num_envs,
        treatment_share=args.treatment_share,
        alpha=args.alpha,
        tau_sd=args.tau_sd,
        checkpoints=args.looks,
        click_threshold=args.click_threshold,
        env_kwargs=args.env_kwargs,
        logdir=args.logdir,
        run_name=args.run_name,
        table_format=args.format,
        progress_bar=not args.no_progress,
    )
    print(format_summary(result))
    print(result.format())
    print(f"run written to {result.run_dir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``recgym`` argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="recgym", description="Recommendation policies in simulation.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="compare random, greedy and category-rotation policies in simulation")
    demo.add_argument("--env", nargs="+", choices=SHORT_VIDEO_IDS, default=list(SHORT_VIDEO_IDS), help="environment ids")
    demo.add_argument("--sessions", type=_positive_int, default=2000, help="sessions per policy (default 2000)")
    demo.add_argument("--seed", type=int, default=0, help="world and policy seed (default 0)")
    demo.add_argument("--num-envs", type=_positive_int, default=32, help="concurrent sessions (default 32)")
    demo.set_defaults(handler=_demo)

    train = commands.add_parser(
        "train",
        help="train an agent (ours or Stable-Baselines3's), compare it with the baselines, write a new run directory",
        description="Train an agent, evaluate it periodically, compare it with the baselines of the env's family, and "
        "write config, checkpoint, tables and a learning-curve figure into a new run directory (never an existing one).",
    )
    train.add_argument("--env", required=True, choices=ENV_IDS, metavar="ID", help=f"environment id: {', '.join(ENV_IDS)}")
    train.add_argument(
        "--agent",
        required=True,
        choices=TRAIN_AGENTS,
        help="dqn, sb3-dqn (Discrete actions); ddpg, sb3-td3, sb3-sac (Box actions); sb3-ppo, sb3-a2c (either)",
    )
    train.add_argument(
        "--steps", required=True, type=_positive_int, metavar="N", help="env steps to train (transitions, summed over envs)"
    )
    train.add_argument("--logdir", default="runs", metavar="DIR", help="parent directory of the run directories (default runs)")
    train.add_argument("--seed", type=_non_negative_int, default=0, metavar="S", help="training world and agent seed (default 0)")
    train.add_argument(
        "--run-name",
        metavar="NAME",
        help="name of the run directory, refused if it exists (default {agent}_{env}_seed{seed}_{k})",
    )
    train.add_argument("--eval-every", type=_positive_int, metavar="N", help="env steps between evaluations (default steps/10)")
    train.add_argument(
        "--eval-episodes",
        type=_positive_int,
        metavar="N",
        help="episodes per evaluation and per baseline (default 2000 short-video, n_users ratings)",
    )
    train.add_argument(
        "--eval-seed",
        type=_non_negative_int,
        metavar="S",
        help="evaluation world seed (default seed+10000 short-video, seed ratings)",
    )
    train.add_argument(
        "--num-envs", type=_positive_int, metavar="N", help="training envs (default 16 short-video, n_users ratings)"
    )
    train.add_argument(
        "--env-kwargs", type=_json_object, metavar="JSON", help="env keyword arguments as JSON, e.g. '{\"n_users\": 50}'"
    )
    train.add_argument(
        "--agent-config",
        type=_json_object,
        metavar="JSON",
        help="agent config fields to change, as JSON, e.g. '{\"learning_rate\": 1e-3}'",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar or progress messages")
    train.set_defaults(handler=_train)

    serve = commands.add_parser(
        "serve",
        help="serve an environment over HTTP: Gymnasium sessions, and the course's rating protocol on RecGym-Ratings-v0",
        description="Serve one env id over HTTP, one env per client: a Gymnasium API (POST /sessions, .../reset, .../step, "
        "GET /spaces; the client is gym.make('RecGym-Remote-v0', url=...)) and, for RecGym-Ratings-v0, the course's "
        "GET /reset?user_id=X and GET /predict?user_id=X&predicted_score=s. Needs the serve extra.",
    )
    serve.add_argument("--env", required=True, choices=ENV_IDS, metavar="ID", help=f"environment id: {', '.join(ENV_IDS)}")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port, printed at start)")
    serve.add_argument(
        "--env-kwargs",
        type=_json_object,
        metavar="JSON",
        help="keyword arguments of every client's env, e.g. '{\"n_users\": 50}'",
    )
    serve.add_argument("--max-clients", type=_positive_int, default=64, metavar="N",
                       help="most sessions at once; a new client beyond it gets 503 (default 64)")
    serve.add_argument("--idle-timeout", type=_positive_float, default=300.0, metavar="SECONDS",
                       help="drop a session after this long without requests (default 300)")
    serve.add_argument("--max-body-bytes", type=_positive_int, default=65536, metavar="N",
                       help="largest request body; larger ones get 413 (default 65536, at least 1024)")
    serve.add_argument("--seed", type=_non_negative_int, metavar="S",
                       help="seed of the server's generator, which draws the seeds of resets that name none (default: random)")
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default: it costs throughput)")
    serve.set_defaults(handler=_serve)

    experiment = commands.add_parser("experiment", help="run an experiment that compares agents (bandits)")
    experiments = experiment.add_subparsers(dest="experiment", required=True)
    bandits = experiments.add_parser(
        "bandits",
        help="seed 000's experiment: Thompson-sampling MF, ALS, ε-greedy and baselines on RecGym-Ratings-v0, period by period",
        description="Every period each user requests one recommendation; each agent recommends, the env rates, the agent "
        "learns. Per agent, seed and period: mean regret, rating MSE, inference and training time, written as CSV, "
        "TensorBoard scalars, a regret PNG and a JSON summary into a new run directory. Defaults reproduce the seed's "
        "set-up (1,000 users x 1,000 items, 10 features, 50 periods, seed 42).",
    )
    bandits.add_argument("--agents", nargs="+", choices=BANDIT_AGENTS, default=list(BANDIT_DEFAULT_AGENTS), metavar="NAME",
                         help=f"agents to run, from {', '.join(BANDIT_AGENTS)} (default: {' '.join(BANDIT_DEFAULT_AGENTS)})")
    bandits.add_argument("--n-users", type=_positive_int, default=1000, metavar="N", help="users (default 1000)")
    bandits.add_argument("--n-items", type=_positive_int, default=1000, metavar="N", help="items (default 1000)")
    bandits.add_argument("--n-features", type=_positive_int, default=10, metavar="N", help="hidden features (default 10)")
    bandits.add_argument("--periods", type=_positive_int, default=50, metavar="N", help="periods (default 50)")
    bandits.add_argument("--seeds", type=_non_negative_int, nargs="+", default=[42], metavar="S",
                         help="world seeds; every agent faces the same worlds (default 42)")
    bandits.add_argument("--logdir", default="runs", metavar="DIR", help="parent directory of the run directories (default runs)")
    bandits.add_argument("--run-name", metavar="NAME",
                         help="name of the run directory, refused if it exists (default bandits_{k})")
    bandits.add_argument("--epsilon", type=float, default=0.2,
                         help="epsilon-greedy's initial exploration probability (default 0.2)")
    bandits.add_argument("--epsilon-decay", type=float, default=0.2, metavar="D",
                         help="epsilon-greedy explores with epsilon / (1 + D * period) (default 0.2; 0: constant)")
    bandits.add_argument("--agent-options", type=_json_object, metavar="JSON",
                         help="per agent, its keyword arguments, e.g. '{\"thompson\": {\"window\": 0}, \"als\": {\"rank\": 5}}'")
    bandits.add_argument("--env-kwargs", type=_json_object, metavar="JSON",
                         help="other RecGym-Ratings-v0 keyword arguments, e.g. '{\"noise_std\": 0.2}'")
    bandits.add_argument("--spark-master", metavar="URL",
                         help="Spark master of als-spark (default local[2]; needs the spark extra)")
    bandits.add_argument("--no-progress", action="store_true", help="no progress bar")
    bandits.set_defaults(handler=_experiment_bandits)

    ab = commands.add_parser(
        "ab",
        help="A/B test two policies on one simulated population: assignment, traffic, tests, report",
        description="Assign every user of the world to arm A or B by a keyed hash of (seed, user id), serve each user's "
        "visits with the policy of their arm, and test every metric (z-tests for rates, Welch for means, relative lift) "
        "at the end, with an mSPRT that stays valid when looked at repeatedly. Writes visits, users, timeline, report "
        "(CSV, JSON) and a PNG into a new run directory. POLICY: random, greedy, rotation, oracle (short video); random, "
        "population-best, oracle (ratings); dqn:PATH, ddpg:PATH (checkpoint or run directory), sb3:RUN_DIR, sb3-ALGO:FILE.zip.",
    )
    ab.add_argument("--a", required=True, metavar="POLICY", help="policy of arm A (control)")
    ab.add_argument("--b", required=True, metavar="POLICY", help="policy of arm B (treatment)")
    ab.add_argument("--users", required=True, type=_positive_int, metavar="N",
                    help="users of the world, all in the experiment (the env's n_users)")
    ab.add_argument("--env", required=True, choices=ENV_IDS, metavar="ID", help=f"environment id: {', '.join(ENV_IDS)}")
    ab.add_argument("--seed", type=_non_negative_int, default=0, metavar="S",
                    help="seed of the world, the assignment and random policies (default 0)")
    ab.add_argument("--visits-per-user", type=_positive_float, metavar="K",
                    help="traffic: K * users sessions (short video, default 3) or requests (ratings, default 1)")
    ab.add_argument("--num-envs", type=_positive_int, metavar="N",
                    help="concurrent visits (default 64 short video, 1024 ratings)")
    ab.add_argument("--treatment-share", type=_open_unit, default=0.5, metavar="F", help="share of users in B (default 0.5)")
    ab.add_argument("--alpha", type=_open_unit, default=0.05, metavar="F", help="level of the tests and intervals (default 0.05)")
    ab.add_argument("--tau-sd", type=_positive_float, default=0.1, metavar="F",
                    help="mSPRT mixing scale in units of a user's standard deviation (default 0.1)")
    ab.add_argument("--looks", type=_positive_int, default=40, metavar="N",
                    help="looks of the timeline and sequential test (default 40)")
    ab.add_argument("--click-threshold", type=float, default=3.5, metavar="T",
                    help="ratings: a rating >= T counts as a click (default 3.5)")
    ab.add_argument("--env-kwargs", type=_json_object, metavar="JSON",
                    help="other env keyword arguments (not n_users), e.g. '{\"n_videos\": 1000}'")
    ab.add_argument("--logdir", default="runs", metavar="DIR", help="parent directory of the run directories (default runs)")
    ab.add_argument("--run-name", metavar="NAME",
                    help="name of the run directory, refused if it exists (default ab_{env}_seed{seed}_{k})")
    ab.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="format of the visit and user tables")
    ab.add_argument("--no-progress", action="store_true", help="no progress bar")
    ab.set_defaults(handler=_ab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``recgym`` command line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileExistsError) as error:  # a knob out of range, a run that exists: a usage error
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
