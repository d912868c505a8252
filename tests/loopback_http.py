"""A real HTTP server on 127.0.0.1 for the fetcher's tests (no test reaches the internet).

``serve(root)`` runs ``http.server.ThreadingHTTPServer`` on an ephemeral port in a thread and
serves the files below ``root`` (404 for the others).  Paths listed in ``stall`` answer
nothing until the server stops (``Stall.BEFORE_HEADERS``) or send the headers and half of
the body, then nothing (``Stall.MID_BODY``), so that timeouts can be tested; paths listed in
``redirect`` answer 302.  Every request path is recorded in ``requests``.
"""

from __future__ import annotations

import enum
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs


class Stall(enum.Enum):
    BEFORE_HEADERS = "before headers"
    MID_BODY = "mid body"


@attrs.define
class LoopbackServer:
    root: Path
    base_url: str = ""
    requests: list[str] = attrs.field(factory=list)
    stall: dict[str, Stall] = attrs.field(factory=dict)
    redirect: dict[str, str] = attrs.field(factory=dict)  # request path -> Location
    released: threading.Event = attrs.field(factory=threading.Event)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    state: LoopbackServer


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0]
        state.requests.append(path)
        file = (state.root / path.lstrip("/")).resolve()
        if path in state.redirect:
            self.send_response(302)
            self.send_header("Location", state.redirect[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        stall = state.stall.get(path)
        if stall is Stall.BEFORE_HEADERS:
            state.released.wait(timeout=30)
            return
        if not file.is_file() or state.root.resolve() not in file.parents:
            self.send_error(404, "Not Found")
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if stall is Stall.MID_BODY:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            state.released.wait(timeout=30)
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


@contextmanager
def serve(root: Path) -> Iterator[LoopbackServer]:
    """Serve ``root`` on ``http://127.0.0.1:<port>/`` for the duration of the ``with`` block."""
    state = LoopbackServer(root=root)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="loopback-http", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.released.set()  # let stalled handlers finish
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def publish(root: Path, edition: str, part: str, content: bytes) -> Path:
    """Place ``content`` where NEMA's layout puts ``edition`` part ``part`` below ``root``."""
    path = root / edition / "source" / "docbook" / f"part{part}" / f"part{part}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
