"""``RecGym-Remote-v0``: a Gymnasium env whose steps run on a ``recgym serve`` server.

It needs the ``serve`` extra (``httpx``); importing ``recgym`` does not.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym

from recgym.serve.codec import decode_value, encode_value, space_from_json

SERVE_EXTRA = "pip install 'recgym[serve]'"


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as error:
        raise ImportError(f"RecGym-Remote-v0 needs the HTTP client httpx, which is not installed: {SERVE_EXTRA}") from error
    return httpx


class RemoteEnv(gym.Env):
    """A recgym env served over HTTP by ``recgym serve``, used as a local Gymnasium env.

    ## Description
    Construction starts a session on the server (one env of the served id, for this client only);
    ``reset`` and ``step`` send JSON to it and rebuild observations with the served spaces'
    dtypes, so that a trajectory equals the local env's with the same seed and actions, bit for
    bit. ``close()`` ends the session. Stable-Baselines3 trains on it unchanged.

    ## Spaces
    Those of the served env, rebuilt from ``GET /spaces`` (``recgym.serve.codec``).

    ## Arguments
    | keyword | default | meaning |
    |---|---|---|
    | url | (required) | the server, e.g. ``"http://127.0.0.1:8000"`` |
    | env_id | None | the id the server must serve (``None``: whatever it serves) |
    | timeout | 30.0 | seconds to wait for each answer |

    Errors: a value the server refuses (a bad action or seed) raises ``ValueError`` with the
    server's message; ``step`` before ``reset`` or an expired session raise ``RuntimeError``; a
    server that cannot be reached raises ``ConnectionError``.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, url: str, env_id: str | None = None, timeout: float = 30.0) -> None:
        httpx = _httpx()
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http:// or https:// URL of a recgym server, got {url!r}")
        if env_id is not None and not isinstance(env_id, str):
            raise ValueError(f"env_id must be an env id string or None, got {env_id!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.url = url.rstrip("/")
        self._httpx = httpx
        self._client = httpx.Client(base_url=self.url, timeout=timeout)
        self.client_id: str | None = None
        answer = self._call("POST", "/sessions", {"env_id": env_id})
        self.client_id = answer["client_id"]
        self.env_id: str = answer["env_id"]
        """The id the server serves."""
        self.observation_space = space_from_json(answer["observation_space"])
        self.action_space = space_from_json(answer["action_space"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._client.request(method, path, json=body)
        except self._httpx.TransportError as error:
            raise ConnectionError(f"cannot reach the recgym server at {self.url}: {error!r}") from error
        if response.status_code < 400:
            return response.json() if response.content else None
        try:
            detail = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            detail = response.text[:500]
        message = f"{self.url} answered {response.status_code} to {method} {path}: {detail}"
        if response.status_code in (400, 413, 422):
            raise ValueError(message)
        raise RuntimeError(message)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the server's env; a ``seed`` draws a new world there, as locally."""
        answer = self._call("POST", f"/sessions/{self.client_id}/reset", {"seed": seed, "options": options})
        super().reset(seed=seed)  # after the server: a seed it refuses is a ValueError with its message
        return decode_value(self.observation_space, answer["observation"]), answer["info"]

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Send ``action`` to the server's env; return its observation, reward, flags and info."""
        body = {"action": encode_value(self.action_space, action)}
        answer = self._call("POST", f"/sessions/{self.client_id}/step", body)
        observation = decode_value(self.observation_space, answer["observation"])
        return observation, float(answer["reward"]), answer["terminated"], answer["truncated"], answer["info"]

    def close(self) -> None:
        """End the session on the server (if it still exists) and close the connection."""
        client = getattr(self, "_client", None)
        if client is None or client.is_closed:
            return
        if self.client_id is not None:
            try:
                client.request("DELETE", f"/sessions/{self.client_id}")
            except self._httpx.TransportError:
                pass  # the server is gone: nothing left to end
        client.close()
        super().close()
