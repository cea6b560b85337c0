"""Running the app with uvicorn: in the foreground (``recgym serve``) or in a background thread (tests, benchmarks).

The listening socket is bound here, before uvicorn starts, so that port 0 (a free port chosen by
the OS) works and the URL printed or returned is the one actually bound.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

DEFAULT_HOST = "127.0.0.1"
"""Loopback only: serving to other machines must be asked for (``--host``)."""


def bind(host: str = DEFAULT_HOST, port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free port).

    Raises
    ------
    OSError
        If the address cannot be bound (in use, not an address of this machine, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and without it Nagle's
    # algorithm holds a response's body until the client's delayed ACK of its headers (40 ms per request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The ``http://host:port`` URL of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


MAX_HEAD_BYTES = 16 * 1024
"""A request head (line and headers) still incomplete past this many bytes gets 400. One that arrives whole in a
single socket read is parsed anyway, so a head is bounded by about one read more (bodies: the app's ``max_body_bytes``)."""


def _config(app: Any, access_log: bool, log_level: str) -> uvicorn.Config:
    # h11 rather than httptools: it bounds the request head (httptools accepts headers of any size, so one client
    # could make the server buffer megabytes), for about 0.05-0.1 ms more per request. uvloop is used when installed.
    return uvicorn.Config(app, http="h11", h11_max_incomplete_event_size=MAX_HEAD_BYTES, access_log=access_log,
                          log_level=log_level, lifespan="on", timeout_graceful_shutdown=5)


def serve_forever(app: Any, sock: socket.socket, *, access_log: bool = False, log_level: str = "warning") -> None:
    """Serve ``app`` on the bound ``sock`` until interrupted (Ctrl-C or SIGTERM shut it down gracefully).

    Ctrl-C returns normally once the requests in flight have finished. Uvicorn raises a caught SIGTERM
    again after its graceful shutdown, so that the process ends with that signal's status.
    """
    try:
        uvicorn.Server(_config(app, access_log, log_level)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled: the shutdown is done


class BackgroundServer:
    """Serve an app with uvicorn in a daemon thread, on loopback; a context manager.

    Parameters
    ----------
    app : ASGI application
        Usually :func:`recgym.serve.app.create_app`'s.
    host : str
        Address to bind (loopback by default).
    port : int
        Port (0: a free one; read :attr:`url`).
    start_timeout : float
        Seconds to wait for the server to start.

    Examples
    --------
    >>> with BackgroundServer(create_app("RecGym-Ratings-v0")) as server:  # doctest: +SKIP
    ...     env = gym.make("RecGym-Remote-v0", url=server.url)
    """

    def __init__(self, app: Any, host: str = DEFAULT_HOST, port: int = 0, *, start_timeout: float = 30.0) -> None:
        self._sock = bind(host, port)
        self.url = url_of(self._sock)
        self._server = uvicorn.Server(_config(app, access_log=False, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True,
                                        name="recgym-serve")
        self._start_timeout = start_timeout

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        """Stop accepting, finish the requests in flight, and join the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        self._sock.close()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()
