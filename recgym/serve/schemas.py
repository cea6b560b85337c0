"""Request and response bodies of the HTTP API (pydantic models: validation and the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StrictStr

MAX_SEED = 2**64 - 1
"""Largest accepted seed (Gymnasium seeds are non-negative integers)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSessionRequest(_Strict):
    """Body of ``POST /sessions`` (may be omitted)."""

    env_id: StrictStr | None = Field(None, max_length=200, description="must be the served env id when given")


class ResetRequest(_Strict):
    """Body of ``POST /sessions/{client_id}/reset`` (may be omitted: no seed)."""

    seed: StrictInt | None = Field(
        None, ge=0, le=MAX_SEED,
        description="draws a new world from this seed; none continues the world (its first reset draws a seed from "
        "the server's generator)",
    )
    options: dict[str, JsonValue] | None = Field(None, description="passed to the env's reset (recgym envs ignore them)")


class StepRequest(_Strict):
    """Body of ``POST /sessions/{client_id}/step``."""

    action: JsonValue = Field(..., description="an element of the action space in the JSON form of GET /spaces")


class SpacesResponse(BaseModel):
    """The served env and its spaces (see ``recgym.serve.codec``)."""

    env_id: str
    observation_space: dict[str, Any]
    action_space: dict[str, Any]


class SessionResponse(SpacesResponse):
    """A new session: its id (a credential: whoever has it can use the session) and the spaces."""

    client_id: str


class ResetResponse(BaseModel):
    """The first observation of an episode and the reset info."""

    observation: Any
    info: dict[str, Any]


class StepResponse(BaseModel):
    """One step's results (reward as a number, or ``"inf"``/``"-inf"``/``"nan"``)."""

    observation: Any
    reward: float | str
    terminated: bool
    truncated: bool
    info: dict[str, Any]


class RatingResetResponse(BaseModel):
    """Answer of ``GET /reset``: the world's history as aligned lists, its sizes and the first pair."""

    nb_users: int
    nb_items: int
    user_history: list[int]
    item_history: list[int]
    rating_history: list[float]
    next_user: int
    next_item: int


class PredictResponse(BaseModel):
    """Answer of ``GET /predict``: the rating of the previous pair, and the next pair."""

    rating: float
    next_user: int
    next_item: int


class ScoreResponse(BaseModel):
    """Answer of ``GET /score``: the prediction error since the last reset."""

    predictions: int
    rmse: float | None
    mae: float | None
    oracle_rmse: float | None


class ErrorResponse(BaseModel):
    """Every 4xx answer: what was wrong."""

    detail: str
