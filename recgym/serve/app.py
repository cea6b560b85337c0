"""The HTTP API: a FastAPI app serving one recgym env id, one env per client.

Two APIs share the app:

- **Gymnasium over HTTP** (any registered id): ``POST /sessions`` issues a client id and makes an
  env; ``POST /sessions/{id}/reset`` and ``/step`` drive it with JSON observations and actions
  (``recgym.serve.codec``); ``GET /spaces`` describes the spaces; ``DELETE /sessions/{id}`` ends it.
  ``gym.make("RecGym-Remote-v0", url=...)`` is the client.
- **The course's rating protocol** (``RecGym-Ratings-v0`` only): ``GET /reset?user_id=X`` and
  ``GET /predict?user_id=X&predicted_score=s`` (``recgym.serve.rating_protocol``), and
  ``GET /score?user_id=X`` for the prediction error so far.

Env calls are CPU-bound and an env is not thread-safe, so each session has a lock and one client's
requests run one after the other. Cheap calls (a step, a prediction, an unseeded reset: 30-200 us
of env work on the default worlds) run on the event loop itself when their session is free: that is
cheaper than handing them to a worker thread, and worker threads would contend with the loop for the
GIL. Calls that draw a world (a seeded reset, a new session, the protocol's ``/reset``), a rating
env's step that starts a changing period, and any kind of call measured to take over 1 ms of CPU in
this server's world run in FastAPI's thread pool, so they never stall other clients (see
``recgym.serve.scheduling``; ``benchmarks/bench_serve.py`` measures the loop's responsiveness with
``/health``).

Memory is bounded: at most ``max_clients`` sessions, and each session's env is made with
``log_interactions=False``, so it keeps its world's history but no log of the steps served (which
would grow by about 100 bytes per step): a session's memory stays what its world takes, however long
it is used. Every malformed request gets a 4xx answer ``{"detail": "what is wrong"}``; the OpenAPI
schema is at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import gymnasium as gym
import numpy as np
from fastapi import Body, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import recgym
from recgym._validation import check_int
from recgym.envs.registration import ENV_IDS
from recgym.serve.body_limit import BodySizeLimit
from recgym.serve.codec import decode_action, encode_info, encode_number, encode_value, space_to_json
from recgym.serve.rating_protocol import MAX_PREDICTED_SCORE, RATING_PROTOCOL_ENV_ID, RatingProtocol
from recgym.serve.scheduling import CallCosts, step_may_stall
from recgym.serve.schemas import (
    MAX_SEED,
    CreateSessionRequest,
    ErrorResponse,
    PredictResponse,
    RatingResetResponse,
    ResetRequest,
    ResetResponse,
    ScoreResponse,
    SessionResponse,
    SpacesResponse,
    StepRequest,
    StepResponse,
)
from recgym.serve.sessions import CLIENT_ID_PATTERN, ServerFull, Session, SessionBusy, SessionNotFound, SessionStore

DEFAULT_MAX_CLIENTS = 64
DEFAULT_IDLE_TIMEOUT = 300.0
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_DETAIL_CHARS = 500
"""Error messages are cut to this length (they may quote what the client sent)."""

GYM, RATING = "gym", "rating"
"""Session kinds: the generic API and the rating protocol (separate id namespaces)."""

_ERRORS = {code: {"model": ErrorResponse} for code in (404, 409, 413, 422, 503)}

ClientId = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, description="the id POST /sessions issued")]
UserId = Annotated[
    str,
    Query(pattern=CLIENT_ID_PATTERN, description="your client id (the course calls it user_id): 1-128 of A-Z a-z 0-9 _ . ~ -"),
]


@dataclass(eq=False)
class GymSession:
    """A generic-API client's env and where its episode stands."""

    env: gym.Env
    needs_reset: bool = True
    """Before the first reset and after an episode ended (terminated or truncated)."""
    seeded: bool = False


class _SeedSource:
    """Seeds for resets that name none: drawn from the server's own seeded generator (thread-safe)."""

    def __init__(self, seed: int | None) -> None:
        self.seed = np.random.SeedSequence(seed).entropy if seed is None else seed
        self._rng = np.random.default_rng(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> int:
        with self._lock:
            return int(self._rng.integers(0, 2**63))


def _json(payload: Any, status_code: int = 200) -> Response:
    # Encoded here (not by FastAPI's jsonable_encoder): the payload is plain JSON already, and this is the hot path.
    body = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status_code, media_type="application/json")


def _detail(message: str) -> str:
    return message if len(message) <= MAX_DETAIL_CHARS else message[: MAX_DETAIL_CHARS - 3] + "..."


@contextlib.contextmanager
def _http_errors() -> Iterator[None]:
    """Turn the library's errors into 4xx answers: unknown session 404, full 503, bad value 422."""
    try:
        yield
    except SessionNotFound as error:
        raise HTTPException(404, _detail(str(error))) from None
    except ServerFull as error:
        raise HTTPException(503, str(error), headers={"Retry-After": "5"}) from None
    except ValueError as error:
        raise HTTPException(422, _detail(str(error))) from None


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = [str(x) for x in item.get("loc", ())]
        if item.get("type") == "json_invalid":
            parts.append(f"the body is not valid JSON: {item.get('ctx', {}).get('error', 'decode error')} at character "
                         f"{where[1] if len(where) > 1 else '?'}")
            continue
        if where == ["body"] and isinstance(item.get("input"), (bytes, str)):
            parts.append("the body must be a JSON object sent with Content-Type: application/json")
            continue
        place = {"query": "query parameter", "path": "path parameter", "body": "body field"}.get(where[0] if where else "")
        name = ".".join(where[1:]) if place else ".".join(where)
        label = f"{place} {name!r}" if place and name else (place or "request")
        message = f"{label}: {item.get('msg', 'invalid')}"
        if "input" in item and item.get("type") != "missing":
            shown = repr(item["input"])
            message += f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
        parts.append(message)
    return _detail("; ".join(parts) or "invalid request")


def create_app(
    env_id: str,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    max_clients: int = DEFAULT_MAX_CLIENTS,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    seed: int | None = None,
) -> FastAPI:
    """The FastAPI app serving ``env_id``, one env per client.

    Parameters
    ----------
    env_id : str
        A registered recgym id (``recgym.ENV_IDS``); the rating protocol needs ``RecGym-Ratings-v0``.
    env_kwargs : Mapping or None
        Keyword arguments of ``gym.make(env_id, ...)`` for every session's env (checked here: a bad
        knob raises ``ValueError`` before the server starts). ``log_interactions`` is always
        ``False`` (nothing over HTTP reads an interaction log, and it would grow with every step);
        ``True`` is refused.
    max_clients : int
        Most sessions alive at once (both APIs together); a new client beyond it gets 503.
    idle_timeout : float
        Seconds without a request after which a session is dropped.
    max_body_bytes : int
        Largest request body; larger ones get 413.
    seed : int or None
        Seed of the server's generator, which draws the seeds of resets that name none (``None``:
        fresh OS entropy, readable as ``app.state.seed``).

    Returns
    -------
    fastapi.FastAPI
        The app; ``app.state.store`` is its :class:`~recgym.serve.sessions.SessionStore`.
    """
    if env_id not in ENV_IDS:
        raise ValueError(f"env_id must be one of {list(ENV_IDS)}, got {env_id!r}")
    if env_kwargs is not None and not isinstance(env_kwargs, Mapping):
        raise ValueError(f"env_kwargs must be a mapping of keyword arguments, got {env_kwargs!r}")
    env_kwargs = dict(env_kwargs or {})
    if env_kwargs.get("log_interactions", False) is not False:
        raise ValueError(
            "env_kwargs['log_interactions'] must be False or left out: nothing over HTTP reads an interaction log, and a "
            f"served env keeping one would grow by about 100 bytes per step without bound; got {env_kwargs['log_interactions']!r}"
        )
    env_kwargs["log_interactions"] = False  # bounded memory per session: the history only (see the module docs)
    store = SessionStore(max_clients, idle_timeout)
    max_body_bytes = check_int("max_body_bytes", max_body_bytes, minimum=1024)
    if seed is not None:
        check_int("seed", seed, minimum=0, maximum=MAX_SEED)
    seeds = _SeedSource(seed)
    costs = CallCosts()
    prototype = gym.make(env_id, **env_kwargs)  # a bad knob fails here, with the env's own ValueError
    observation_space, action_space = prototype.observation_space, prototype.action_space
    prototype.close()
    spaces_json = {
        "env_id": env_id,
        "observation_space": space_to_json(observation_space),
        "action_space": space_to_json(action_space),
    }
    sweep_every = min(store.idle_timeout / 2.0, 30.0)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sweep() -> None:
            while True:
                await asyncio.sleep(sweep_every)
                store.expire()

        task = asyncio.create_task(sweep())
        try:
            yield
        finally:
            task.cancel()

    app = FastAPI(
        title="recgym",
        version=recgym.__version__,
        summary=f"{env_id} over HTTP: Gymnasium sessions and the course's rating protocol",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.seed = seeds.seed
    app.state.env_id = env_id
    app.state.costs = costs
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(error)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 400 and error.__cause__ is not None:
            # FastAPI's answer to a body it could not decode says only "There was an error parsing the body".
            detail = f"the body could not be decoded as JSON: {type(error.__cause__).__name__}: {error.__cause__}"
            return JSONResponse({"detail": _detail(detail)}, status_code=400)
        return await http_exception_handler(request, error)

    def make_env() -> gym.Env:
        return gym.make(env_id, **env_kwargs)

    async def on_session(kind: str, client_id: str, work: Callable[[Session], Response], *, heavy: bool) -> Response:
        """Run ``work`` on a held session: on the event loop when it is short and the session is free, else in a thread.

        A cheap env call (a step: 30-150 us) costs less than the hand-over to a worker thread, and worker
        threads contend for the GIL with the event loop; an expensive one (``heavy``: see
        ``recgym.serve.scheduling``) would stall every other client, so it goes to the thread pool, as
        does a request whose session is busy.
        """
        if not heavy:
            try:
                with _http_errors(), store.use(kind, client_id, blocking=False) as session:
                    return work(session)
            except SessionBusy:
                pass

        def in_thread() -> Response:
            with _http_errors(), store.use(kind, client_id) as session:
                return work(session)

        return await run_in_threadpool(in_thread)

    # ------------------------------------------------------------------ service
    @app.get("/", summary="what this server serves")
    async def hello() -> dict[str, Any]:
        return {"service": "recgym", "version": recgym.__version__, "env_id": env_id, "docs": "/docs",
                "openapi": "/openapi.json", "rating_protocol": env_id == RATING_PROTOCOL_ENV_ID}

    @app.get("/health", summary="liveness and session counts")
    async def health() -> dict[str, Any]:
        # Answered on the event loop itself, so its latency shows whether anything blocks the loop.
        return {"status": "ok", "env_id": env_id, "sessions": len(store), "max_clients": store.max_clients,
                "idle_timeout": store.idle_timeout, "expired": store.expired_total}

    # ------------------------------------------------------------------ Gymnasium over HTTP
    @app.get("/spaces", summary="the served env id and its spaces", response_model=SpacesResponse)
    async def get_spaces() -> dict[str, Any]:
        return spaces_json

    @app.post("/sessions", status_code=201, summary="start a session: a new env and its client id",
              response_model=None, responses={201: {"model": SessionResponse}, **_ERRORS})
    def create_session(request: Annotated[CreateSessionRequest | None, Body()] = None) -> Response:
        # A plain function: FastAPI runs it in the thread pool (making an env allocates its arrays).
        if request is not None and request.env_id is not None and request.env_id != env_id:
            raise HTTPException(422, _detail(f"this server serves {env_id!r}, not {request.env_id!r}"))
        with _http_errors():
            store.check_capacity()
            client_id = store.new_id()
            store.create(GYM, client_id, GymSession(make_env()))
        return _json({"client_id": client_id, **spaces_json}, status_code=201)

    @app.delete("/sessions/{client_id}", status_code=204, summary="end a session", response_model=None,
                responses=_ERRORS)
    async def delete_session(client_id: ClientId) -> Response:
        with _http_errors():
            store.remove(GYM, client_id)
        return Response(status_code=204)

    @app.post("/sessions/{client_id}/reset", summary="env.reset(seed=..., options=...)", response_model=None,
              responses={200: {"model": ResetResponse}, **_ERRORS})
    async def reset(client_id: ClientId, request: Annotated[ResetRequest | None, Body()] = None) -> Response:
        request = request or ResetRequest()

        def work(session: Session) -> Response:
            episode: GymSession = session.state
            if request.seed is not None or not episode.seeded:
                seed = request.seed if request.seed is not None else seeds.draw()
                observation, info = episode.env.reset(seed=seed, options=request.options)
            else:
                with costs.timed("reset"):  # continues the world: its cost is measured (a world draw's is not)
                    observation, info = episode.env.reset(options=request.options)
            episode.needs_reset, episode.seeded = False, True
            return _json({"observation": encode_value(observation_space, observation), "info": encode_info(info)})

        with _http_errors():
            draws_world = request.seed is not None or not store.peek(GYM, client_id).seeded
        return await on_session(GYM, client_id, work, heavy=draws_world or not costs.inline("reset"))

    @app.post("/sessions/{client_id}/step", summary="env.step(action)", response_model=None,
              responses={200: {"model": StepResponse}, **_ERRORS})
    async def step(client_id: ClientId, request: StepRequest) -> Response:
        with _http_errors():
            action = decode_action(action_space, request.action)

        def work(session: Session) -> Response:
            episode: GymSession = session.state
            if episode.needs_reset:
                raise HTTPException(409, "the episode has ended or never started: POST .../reset before step")
            with costs.timed("step") if not stalls else contextlib.nullcontext():
                observation, reward, terminated, truncated, info = episode.env.step(action)
            episode.needs_reset = bool(terminated or truncated)
            return _json({
                "observation": encode_value(observation_space, observation),
                "reward": encode_number(float(reward)),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
                "info": encode_info(info),
            })

        with _http_errors():
            stalls = step_may_stall(store.peek(GYM, client_id).env)
        return await on_session(GYM, client_id, work, heavy=stalls or not costs.inline("step"))

    # ------------------------------------------------------------------ the course's rating protocol (seed 002)
    def require_protocol() -> None:
        if env_id != RATING_PROTOCOL_ENV_ID:
            raise HTTPException(404, f"the rating protocol (/reset, /predict, /score) is served with --env "
                                     f"{RATING_PROTOCOL_ENV_ID}; this server serves {env_id}")

    @app.get("/reset", summary="rating protocol: a new world for user_id; its history and the first (user, item)",
             response_model=None, responses={200: {"model": RatingResetResponse}, **_ERRORS})
    def rating_reset(
        user_id: UserId,
        seed: Annotated[int | None, Query(ge=0, le=MAX_SEED, description="world seed (default: drawn by the server)")] = None,
    ) -> Response:
        # A plain function: FastAPI runs it in the thread pool (it draws a world).
        require_protocol()
        seed = seeds.draw() if seed is None else seed
        with _http_errors():
            with contextlib.suppress(SessionNotFound), store.use(RATING, user_id) as session:
                return _json(session.state.reset(seed))
            store.check_capacity((RATING, user_id))
            protocol = RatingProtocol(make_env())
            answer = protocol.reset(seed)
            store.create(RATING, user_id, protocol)
        return _json(answer)

    @app.get("/predict", summary="rating protocol: score a prediction; the rating and the next (user, item)",
             response_model=None, responses={200: {"model": PredictResponse}, **_ERRORS})
    async def rating_predict(
        user_id: UserId,
        predicted_score: Annotated[float, Query(
            allow_inf_nan=False, description="predicted rating of the last pair",
            # Checked by RatingProtocol.predict, whose 422 names the whole range; the schema shows it too.
            json_schema_extra={"minimum": -MAX_PREDICTED_SCORE, "maximum": MAX_PREDICTED_SCORE},
        )],
    ) -> Response:
        require_protocol()
        with _http_errors():
            stalls = step_may_stall(store.peek(RATING, user_id).env)

        def work(session: Session) -> Response:
            with costs.timed("predict") if not stalls else contextlib.nullcontext():
                answer = session.state.predict(predicted_score)
            return _json(answer)

        return await on_session(RATING, user_id, work, heavy=stalls or not costs.inline("predict"))

    @app.get("/score", summary="rating protocol: prediction error since the last reset", response_model=None,
             responses={200: {"model": ScoreResponse}, **_ERRORS})
    async def rating_score(user_id: UserId) -> Response:
        require_protocol()
        return await on_session(RATING, user_id, lambda session: _json(session.state.score()), heavy=False)

    return app
