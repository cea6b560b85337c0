"""The server's sessions: one environment per client id, a bounded number of them, expired when idle.

Memory stays bounded: at most ``max_clients`` sessions exist, and a session nobody has used for
``idle_timeout`` seconds is dropped (by :meth:`SessionStore.expire`, which the app runs
periodically and before refusing a new client). Each session has its own lock, because an env is
not thread-safe and the server runs requests in a thread pool: requests on one session run one
after the other, requests on different sessions in parallel.

Ids are namespaced by kind (``"gym"`` for the generic API, ``"rating"`` for the course's protocol),
so a protocol client that picks an id cannot reach a gym session of the same id.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recgym._validation import check_int, check_real

CLIENT_ID_PATTERN = r"^[A-Za-z0-9_.~-]{1,128}$"
"""Client ids: 1 to 128 URL-safe characters (issued ids are 22 of them)."""

_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)


class SessionNotFound(LookupError):
    """No session has this id (never created, deleted, or expired)."""


class ServerFull(RuntimeError):
    """``max_clients`` sessions exist and none has expired."""


class SessionBusy(RuntimeError):
    """The session's lock is held by another request (raised by ``use(..., blocking=False)`` only)."""


@dataclass(eq=False)
class Session:
    """One client's state: its env (or protocol object), a lock serialising access, and its last use."""

    kind: str
    client_id: str
    state: Any
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: int = 0
    """Requests holding the session now (an active session never expires)."""


class SessionStore:
    """A bounded map from (kind, client id) to :class:`Session`, with idle expiry.

    Parameters
    ----------
    max_clients : int
        Most sessions alive at once (all kinds together).
    idle_timeout : float
        Seconds without a request after which a session expires.
    clock : callable
        Monotonic time in seconds (``time.monotonic``; tests pass a fake clock).
    """

    def __init__(self, max_clients: int, idle_timeout: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_clients = check_int("max_clients", max_clients, minimum=1)
        self.idle_timeout = check_real("idle_timeout", idle_timeout, minimum=0.0, strict_minimum=True)
        self._clock = clock
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()
        self.expired_total = 0
        """Sessions dropped for idleness since the start."""

    def __len__(self) -> int:
        return len(self._sessions)

    @staticmethod
    def new_id() -> str:
        """A fresh unguessable id (128 random bits from the OS: an id is a credential, not a simulation draw)."""
        return secrets.token_urlsafe(16)

    @staticmethod
    def check_id(client_id: Any) -> str:
        """Return ``client_id`` if it matches :data:`CLIENT_ID_PATTERN`, else raise ``ValueError``."""
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            shown = client_id if not isinstance(client_id, str) or len(client_id) <= 40 else client_id[:40] + "..."
            raise ValueError(f"client id must be 1 to 128 characters among A-Z a-z 0-9 _ . ~ -, got {shown!r}")
        return client_id

    def expire(self) -> int:
        """Drop the sessions idle for longer than ``idle_timeout``; return how many were dropped."""
        now = self._clock()
        with self._lock:
            stale = [key for key, s in self._sessions.items() if s.active == 0 and now - s.last_used > self.idle_timeout]
            for key in stale:
                del self._sessions[key]
            self.expired_total += len(stale)
        return len(stale)

    def create(self, kind: str, client_id: str, state: Any) -> Session:
        """Add a session (replacing one of the same kind and id); raise :class:`ServerFull` if none is free."""
        self.check_id(client_id)
        key = (kind, client_id)
        self.check_capacity(key)
        with self._lock:
            # Checked again under the lock: concurrent creations never exceed the bound.
            if key not in self._sessions and len(self._sessions) >= self.max_clients:
                raise ServerFull(self._full_message())
            session = Session(kind, client_id, state, self._clock())
            self._sessions[key] = session
            return session

    def check_capacity(self, key: tuple[str, str] | None = None) -> None:
        """Raise :class:`ServerFull` if a new session (other than ``key``) has no room, after expiring idle ones.

        Called before building an env, so that a full server refuses without spending the memory.
        """
        if key in self._sessions or len(self._sessions) < self.max_clients:
            return
        self.expire()
        if len(self._sessions) >= self.max_clients:
            raise ServerFull(self._full_message())

    def _full_message(self) -> str:
        return (f"the server holds its maximum of {self.max_clients} sessions (max_clients); sessions expire after "
                f"{self.idle_timeout:g} s without requests (idle_timeout), or DELETE yours when done")

    def remove(self, kind: str, client_id: str) -> None:
        """Delete a session; raise :class:`SessionNotFound` if there is none."""
        with self._lock:
            if self._sessions.pop((kind, client_id), None) is None:
                raise SessionNotFound(self._not_found(kind, client_id))

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._sessions

    def peek(self, kind: str, client_id: str) -> Any:
        """The state of a session, without holding it (to decide how to serve a request, not to change the state).

        Raises
        ------
        SessionNotFound
            If the session does not exist (or has expired).
        """
        session = self._sessions.get((kind, client_id))
        if session is None:
            raise SessionNotFound(self._not_found(kind, client_id))
        return session.state

    @contextlib.contextmanager
    def use(self, kind: str, client_id: str, *, blocking: bool = True) -> Iterator[Session]:
        """Hold a session for one request: marks it active, takes its lock, and refreshes its last use.

        Parameters
        ----------
        kind, client_id : str
            The session.
        blocking : bool
            Wait for the session's lock (``True``), or raise :class:`SessionBusy` at once if another
            request holds it (``False``: for the event loop, which must never wait).

        Raises
        ------
        SessionNotFound
            If the session does not exist (or has expired).
        SessionBusy
            If ``blocking`` is false and the session is in use.
        """
        with self._lock:
            session = self._sessions.get((kind, client_id))
            if session is None:
                raise SessionNotFound(self._not_found(kind, client_id))
            session.active += 1
            session.last_used = self._clock()
        try:
            if not session.lock.acquire(blocking=blocking):
                raise SessionBusy(f"session {client_id!r} is serving another request")
            try:
                yield session
            finally:
                session.lock.release()
        finally:
            with self._lock:
                session.active -= 1
                session.last_used = self._clock()

    def _not_found(self, kind: str, client_id: str) -> str:
        shown = client_id if len(client_id) <= 40 else client_id[:40] + "..."
        how = "GET /reset?user_id=..." if kind == "rating" else "POST /sessions"
        return (f"no session {shown!r}: it was never created, was deleted, or expired after {self.idle_timeout:g} s "
                f"without requests; start one with {how}")
