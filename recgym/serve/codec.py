"""JSON codec of Gymnasium spaces, observations, actions and infos, exact both ways.

A space becomes a JSON object from which :func:`space_from_json` rebuilds an identical space
(same class, shape, dtype and bit-identical bounds). Values travel as JSON numbers and lists:
a float32 or float64 number is written as the shortest decimal that reads back to the same
float64, so a float32 observation comes back bit for bit once cast to the space's dtype.
Non-finite Box bounds are written as the strings ``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has
no such numbers).

Every decoding of client input (:func:`decode_action`) raises ``ValueError`` saying what is wrong;
the server turns it into a 422 answer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

SUPPORTED_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")
"""Space classes the codec serialises."""

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


# ---------------------------------------------------------------------------------------------- numbers
def encode_number(value: float) -> float | str:
    """A float as JSON: itself when finite, else ``"inf"``, ``"-inf"`` or ``"nan"`` (``float()`` reads them back)."""
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _array_to_json(array: np.ndarray) -> Any:
    """Nested lists of Python numbers; non-finite floats as strings."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return np.vectorize(encode_number, otypes=[object])(array).tolist()
    return array.tolist()


def _array_from_json(value: Any, dtype: np.dtype, what: str) -> np.ndarray:
    def number(x: Any) -> Any:
        if isinstance(x, str) and x in _NON_FINITE:
            return _NON_FINITE[x]
        if isinstance(x, list):
            return [number(y) for y in x]
        return x

    try:
        return np.asarray(number(value), dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be numbers of dtype {dtype}, got {value!r}") from None


def _dtype_from_json(name: Any) -> np.dtype:
    try:
        dtype = np.dtype(name)
    except TypeError:
        raise ValueError(f"space dtype must be a NumPy dtype name, got {name!r}") from None
    if dtype.kind not in "biuf":
        raise ValueError(f"space dtype must be a boolean, integer or float dtype, got {name!r}")
    return dtype


# ---------------------------------------------------------------------------------------------- spaces
def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """Describe ``space`` as a JSON object that :func:`space_from_json` turns back into an equal space.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        A ``Box``, ``Discrete``, ``MultiDiscrete``, ``MultiBinary``, or a ``Dict`` / ``Tuple`` of them.

    Returns
    -------
    dict
        ``{"type": ..., ...}``; ``Dict`` keeps its key order as a list of ``[key, space]`` pairs.
    """
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": space.dtype.name,
            "low": _array_to_json(space.low),
            "high": _array_to_json(space.high),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": space.dtype.name,
        }
    if isinstance(space, spaces.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": int(n) if np.ndim(n) == 0 else np.asarray(n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": [[key, space_to_json(sub)] for key, sub in space.spaces.items()]}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(sub) for sub in space.spaces]}
    raise ValueError(f"cannot serialise a {type(space).__name__} space; supported: {', '.join(SUPPORTED_SPACES)}")


def space_from_json(spec: Mapping[str, Any]) -> spaces.Space:
    """Rebuild the space described by :func:`space_to_json`.

    Parameters
    ----------
    spec : Mapping
        A JSON object from :func:`space_to_json`.

    Returns
    -------
    gymnasium.spaces.Space
        A space equal to the serialised one, with the same dtype and bit-identical bounds.

    Raises
    ------
    ValueError
        If ``spec`` is not such an object.
    """
    if not isinstance(spec, Mapping) or spec.get("type") not in SUPPORTED_SPACES:
        raise ValueError(f"a space must be an object with a type in {SUPPORTED_SPACES}, got {spec!r}")
    kind = spec["type"]
    try:
        if kind == "Box":
            dtype = _dtype_from_json(spec["dtype"])
            shape = tuple(int(n) for n in spec["shape"])
            low = _array_from_json(spec["low"], dtype, "Box low").reshape(shape)
            high = _array_from_json(spec["high"], dtype, "Box high").reshape(shape)
            return spaces.Box(low, high, shape=shape, dtype=dtype)
        if kind == "Discrete":
            return spaces.Discrete(int(spec["n"]), start=int(spec["start"]))
        if kind == "MultiDiscrete":
            dtype = _dtype_from_json(spec["dtype"])
            return spaces.MultiDiscrete(np.asarray(spec["nvec"], dtype=dtype), dtype=dtype,
                                        start=np.asarray(spec["start"], dtype=dtype))
        if kind == "MultiBinary":
            n = spec["n"]
            return spaces.MultiBinary(int(n) if isinstance(n, int) else [int(k) for k in n])
        if kind == "Dict":
            return spaces.Dict([(str(key), space_from_json(sub)) for key, sub in spec["spaces"]])
        return spaces.Tuple([space_from_json(sub) for sub in spec["spaces"]])
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed {kind} space {spec!r}: {error!r}") from None


# ---------------------------------------------------------------------------------------------- values
def encode_value(space: spaces.Space, value: Any) -> Any:
    """An element of ``space`` (observation or action) as JSON: numbers, lists and objects.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        The space ``value`` belongs to.
    value : Any
        An element of it (NumPy arrays and scalars, Python numbers, dicts, tuples).

    Returns
    -------
    Any
        An ``int`` for ``Discrete``; nested lists for arrays; an object for ``Dict``; a list for ``Tuple``.
    """
    if isinstance(space, spaces.Dict):
        return {key: encode_value(sub, value[key]) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return [encode_value(sub, item) for sub, item in zip(space.spaces, value, strict=True)]
    return _array_to_json(np.asarray(value))


def decode_value(space: spaces.Space, value: Any) -> Any:
    """The element of ``space`` that :func:`encode_value` wrote, with the space's dtypes.

    Parameters
    ----------
    space : gymnasium.spaces.Space
        The space the value belongs to.
    value : Any
        Its JSON form.

    Returns
    -------
    Any
        ``numpy.int64`` for ``Discrete`` (as Gymnasium's own samples); arrays of the space's dtype and
        shape; a ``dict`` for ``Dict``; a ``tuple`` for ``Tuple``.

    Raises
    ------
    ValueError
        If the value has the wrong structure, shape or type for ``space``.
    """
    return _decode(space, value, "value", check_bounds=False)


def decode_action(space: spaces.Space, value: Any) -> Any:
    """Validate a client's JSON action against ``space`` and return it as the local env would get it.

    Integer spaces (``Discrete``, ``MultiDiscrete``, ``MultiBinary``) need whole numbers within the
    space (``3.0`` is accepted for ``3``, as the local rating env accepts it; ``true`` is not a
    number). ``Box`` actions need finite numbers of the right shape; their bounds are left to the env,
    which may accept points outside the box (``RecGym-RatingsEmbedding-v0`` does).

    Parameters
    ----------
    space : gymnasium.spaces.Space
        The env's action space.
    value : Any
        The decoded JSON value sent by the client.

    Returns
    -------
    Any
        ``int`` for ``Discrete``, arrays of the space's dtype, ``dict`` / ``tuple`` for composite spaces.

    Raises
    ------
    ValueError
        Naming what is wrong: type, shape, range or a non-finite number.
    """
    return _decode(space, value, "action", check_bounds=True)


def _numbers(value: Any, what: str) -> np.ndarray:
    """A JSON number or nested list of numbers as a float64/int64 array (no bools, strings or ragged lists)."""

    def check(x: Any) -> None:
        if isinstance(x, list):
            for y in x:
                check(y)
        elif isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise ValueError(f"{what} must hold numbers only, got {x!r}")

    check(value)
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{what} must be a regular (non-ragged) array of numbers") from None
    if array.dtype == object:
        # Integers beyond int64, or a ragged list that NumPy kept as objects.
        raise ValueError(f"{what} must be a regular array of numbers within int64/float64 range")
    return array


def _integers(value: Any, space_dtype: np.dtype, low: np.ndarray, high: np.ndarray, what: str) -> np.ndarray:
    array = _numbers(value, what)
    if array.shape != low.shape:
        raise ValueError(f"{what} must have shape {low.shape}, got shape {array.shape}")
    if array.dtype.kind == "f":
        if not (np.isfinite(array).all() and (array == np.round(array)).all()):
            raise ValueError(f"{what} must hold whole numbers, got {value!r}")
    if (array < low).any() or (array > high).any():
        raise ValueError(f"{what} must lie in [{low.tolist()}, {high.tolist()}], got {value!r}")
    return array.astype(space_dtype)


def _decode(space: spaces.Space, value: Any, what: str, *, check_bounds: bool) -> Any:
    if isinstance(space, spaces.Dict):
        if not isinstance(value, Mapping) or set(value) != set(space.spaces):
            raise ValueError(f"{what} must be an object with keys {sorted(space.spaces)}, got {value!r}")
        return {key: _decode(sub, value[key], f"{what}[{key!r}]", check_bounds=check_bounds)
                for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        if not isinstance(value, list) or len(value) != len(space.spaces):
            raise ValueError(f"{what} must be a list of {len(space.spaces)} elements, got {value!r}")
        return tuple(_decode(sub, item, f"{what}[{i}]", check_bounds=check_bounds)
                     for i, (sub, item) in enumerate(zip(space.spaces, value, strict=True)))
    if isinstance(space, spaces.Discrete):
        low = np.asarray(space.start)
        array = _integers(value, np.dtype(np.int64), low, low + space.n - 1, what)
        return int(array) if check_bounds else np.int64(array)
    if isinstance(space, spaces.MultiDiscrete):
        return _integers(value, space.dtype, space.start, space.start + space.nvec - 1, what)
    if isinstance(space, spaces.MultiBinary):
        zeros = np.zeros(space.shape, dtype=np.int64)
        return _integers(value, space.dtype, zeros, zeros + 1, what)
    if isinstance(space, spaces.Box):
        if check_bounds:
            array = _numbers(value, what)
            if not np.isfinite(array).all():
                raise ValueError(f"{what} must hold finite numbers, got {value!r}")
        else:
            array = _array_from_json(value, space.dtype, what)
        if array.shape != space.shape:
            raise ValueError(f"{what} must have shape {space.shape}, got shape {array.shape}")
        return array.astype(space.dtype)
    raise ValueError(f"cannot decode a value of a {type(space).__name__} space; supported: {', '.join(SUPPORTED_SPACES)}")


def encode_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """An env's ``info`` dict as JSON: NumPy scalars and arrays to numbers and lists, non-finite floats to ``None``.

    Parameters
    ----------
    info : Mapping[str, Any]
        The info dict (recgym's hold ints, floats, strings and bools).

    Returns
    -------
    dict
        JSON-serialisable; keys as strings, unknown objects as their ``repr``.
    """
    return {str(key): _info_value(value) for key, value in info.items()}


def _info_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_info_value(x) for x in value.tolist()] if value.dtype.kind == "f" or value.dtype == object else value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Mapping):
        return encode_info(value)
    if isinstance(value, (list, tuple)):
        return [_info_value(x) for x in value]
    return repr(value)
