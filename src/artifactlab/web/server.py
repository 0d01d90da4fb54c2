"""A local web server for one page's folder: bound to 127.0.0.1, serving only its own files.

:func:`make_server` builds the server object (``serve_forever`` it in a thread, and
``shutdown`` and ``server_close`` it, in tests); ``artifactlab explore`` serves with it.
It answers ``GET`` and ``HEAD`` only, for the regular files directly inside its folder
(or, given ``files``, for those names only); ``/`` is the index page, and a missing
``/favicon.ico`` is an empty answer (204). A path that
leaves the folder, literally or percent-encoded (``../``, ``%2e%2e/``, ``..%2f``), a
backslash, a NUL, an absolute path (``//etc/passwd``) or a symbolic link out of the
folder is refused with 403; a file that is not there is 404. A request whose ``Host``
is not ``127.0.0.1:PORT`` or ``localhost:PORT`` is refused with 403, so a web page
elsewhere cannot reach the server through a DNS name of its own (DNS rebinding).

Example
-------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> _ = (root / "index.html").write_text("<p>hi</p>")
>>> server = make_server(root, port=0)
>>> server.server_address[0]
'127.0.0.1'
>>> server.resolve("/") == (root / "index.html").resolve(), int(server.resolve("/%2e%2e/x"))
(True, 403)
>>> server.server_close()
"""

from __future__ import annotations

import errno
import mimetypes
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from artifactlab.errors import InputError

#: the only address the server binds to
HOST = "127.0.0.1"


class PageServer(ThreadingHTTPServer):
    """A threading HTTP server for the files of one folder (see the module docstring)."""

    daemon_threads = True

    def __init__(self, root: Path, port: int, files: Iterable[str] | None, index: str) -> None:
        self.root = Path(root).resolve()
        self.files = None if files is None else frozenset(files)
        self.index = index
        super().__init__((HOST, port), _Handler)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://{HOST}:{self.server_address[1]}/"

    def resolve(self, raw_path: str) -> Path | int:
        """The file a request path names, or the HTTP status that refuses it (403, 404)."""
        path = urlsplit(raw_path).path
        try:
            name = unquote(path, errors="strict")
        except UnicodeDecodeError:  # a percent-encoding that is not UTF-8
            return HTTPStatus.FORBIDDEN
        if not name.startswith("/") or name.startswith("//") or "\\" in name or "\x00" in name:
            return HTTPStatus.FORBIDDEN
        parts = name.split("/")[1:]
        if any(part in ("..", ".") for part in parts):
            return HTTPStatus.FORBIDDEN
        rel = "/".join(parts) or self.index
        if self.files is not None and rel not in self.files:
            return HTTPStatus.NOT_FOUND
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root):
            return HTTPStatus.FORBIDDEN
        return target if target.is_file() else HTTPStatus.NOT_FOUND

    def host_allowed(self, host: str | None) -> bool:
        """Whether a request's ``Host`` header names this server (not some DNS name)."""
        port = self.server_address[1]
        return host in (f"{HOST}:{port}", f"localhost:{port}")


class _Handler(BaseHTTPRequestHandler):
    server: PageServer
    server_version = "artifactlab"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self.send_error(HTTPStatus.FORBIDDEN, "unknown Host")
            return
        target = self.server.resolve(self.path)
        if target == HTTPStatus.NOT_FOUND and urlsplit(self.path).path == "/favicon.ico":
            target = HTTPStatus.NO_CONTENT  # no icon, and no error in the browser's console
        if target == HTTPStatus.NO_CONTENT:
            self.send_response(target)
            self.end_headers()
            return
        if not isinstance(target, Path):
            self.send_error(target)
            return
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind
        )
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the command prints the URL, not every request."""


def make_server(
    root: Path, port: int = 0, files: Iterable[str] | None = None, index: str = "index.html"
) -> PageServer:
    """Bind a :class:`PageServer` for ``root`` to ``127.0.0.1:port`` (0: a free port).

    Parameters
    ----------
    root : Path
        The folder served.
    port : int
        The TCP port; 0 lets the system pick a free one (read ``server.server_address``).
    files : iterable of str, optional
        Serve only these file names of ``root`` (default: every regular file in it).
    index : str
        The file served for ``/``.

    Raises
    ------
    InputError
        The port is in use, or cannot be bound (a privileged port, say).
    """
    if not 0 <= port <= 65535:
        raise InputError("--port", f"must lie in [0, 65535], got {port}")
    try:
        return PageServer(root, port, files, index)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise InputError(
                "--port", f"port {port} is in use on {HOST}; pick another with --port"
            ) from None
        raise InputError("--port", f"cannot listen on {HOST}:{port} ({err.strerror})") from None
