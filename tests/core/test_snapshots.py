"""Fetching camera snapshots from real stdlib HTTP servers on loopback."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedata_core.frames import Frame
from seedata_core.imaging import encode_jpeg
from seedata_core.snapshots import SnapshotError, fetch_snapshot

USER, PASSWORD = "admin", "s3cr:t@pw/x"
REALM = "camera"


def _jpeg() -> bytes:
    rgb = bytes(v for y in range(24) for x in range(32) for v in (x * 8, y * 10, 90))
    return encode_jpeg(Frame(width=32, height=24, rgb=rgb, captured_at=datetime.now(UTC)))


JPEG = _jpeg()
Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server:
    """A threaded HTTP server whose GET behaviour a test swaps in; records the Authorization headers."""

    def __init__(self) -> None:
        self.behaviour: Handler = lambda req: _send(req, 200, JPEG)
        self.authorizations: list[str | None] = []
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.authorizations.append(self.headers.get("Authorization"))
                with suppress(OSError):  # the client gave up, as the deadline tests intend
                    owner.behaviour(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/snap.jpg", user: str | None = USER, password: str = PASSWORD) -> str:
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user is not None else ""
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"


def _send(
    req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    req.send_response(status)
    for name, value in (headers or {}).items():
        req.send_header(name, value)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def _basic_guard(password: str = PASSWORD) -> Handler:
    import base64

    expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()

    def handle(req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("Authorization") == expected:
            _send(req, 200, JPEG)
        else:
            _send(req, 401, b"no", {"WWW-Authenticate": f'Basic realm="{REALM}"'})

    return handle


def _digest_guard(algorithm: str = "MD5", password: str = PASSWORD, challenge_extra: str = "") -> Handler:
    """RFC 7616 server side with qop=auth, checked against the password the server knows."""
    hash_fn = hashlib.sha256 if algorithm.startswith("SHA-256") else hashlib.md5
    nonce, opaque = "n0nce-42", "opaque-7"

    def h(text: str) -> str:
        return hash_fn(text.encode()).hexdigest()

    def handle(req: BaseHTTPRequestHandler) -> None:
        header = req.headers.get("Authorization") or ""
        fields = dict(re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|[^,\s]+)', header))
        raw = dict(re.findall(r"(\w+)=([^,\s\"]+)", header))
        if header.startswith("Digest ") and fields.get("nonce") == nonce and fields.get("opaque") == opaque:
            ha1 = h(f"{USER}:{REALM}:{password}")
            if algorithm.endswith("-sess"):
                ha1 = h(f"{ha1}:{nonce}:{fields['cnonce']}")
            ha2 = h(f"GET:{fields['uri']}")
            expected = h(f"{ha1}:{nonce}:{raw['nc']}:{fields['cnonce']}:{raw['qop']}:{ha2}")
            if (
                fields["username"] == USER
                and fields["uri"] == req.path
                and raw.get("algorithm") == algorithm
                and fields["response"] == expected
            ):
                _send(req, 200, JPEG)
                return
        challenge = (
            f'Digest realm="{REALM}", qop="auth,auth-int", nonce="{nonce}", opaque="{opaque}", '
            f"algorithm={algorithm}"
        )
        _send(req, 401, b"no", {"WWW-Authenticate": challenge + challenge_extra})

    return handle


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _error(url: str, **kwargs: object) -> SnapshotError:
    with pytest.raises(SnapshotError) as info:
        fetch_snapshot(url, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert PASSWORD not in message
    assert quote(PASSWORD, safe="") not in message
    return info.value


def test_plain_jpeg_is_decoded_with_the_arrival_time(server: _Server) -> None:
    before = datetime.now(UTC)
    frame = fetch_snapshot(server.url(user=None))
    assert (frame.width, frame.height) == (32, 24)
    assert before <= frame.captured_at <= datetime.now(UTC)
    assert server.authorizations == [None]


def test_credentials_are_not_sent_before_a_challenge_in_auto_mode(server: _Server) -> None:
    fetch_snapshot(server.url())
    assert server.authorizations == [None]


def test_basic_auth_answers_the_challenge(server: _Server) -> None:
    server.behaviour = _basic_guard()
    assert fetch_snapshot(server.url()).width == 32
    assert server.authorizations[0] is None
    assert server.authorizations[1] is not None
    assert server.authorizations[1].startswith("Basic ")


def test_basic_mode_sends_credentials_at_once(server: _Server) -> None:
    server.behaviour = _basic_guard()
    fetch_snapshot(server.url(), auth="basic")
    assert len(server.authorizations) == 1


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"])
def test_digest_auth_answers_the_challenge(server: _Server, algorithm: str) -> None:
    server.behaviour = _digest_guard(algorithm)
    assert fetch_snapshot(server.url("/cgi/snap?channel=1&size=hd")).width == 32
    assert len(server.authorizations) == 2


def test_digest_mode_refuses_a_basic_only_camera(server: _Server) -> None:
    server.behaviour = _basic_guard()
    assert "no Digest" in str(_error(server.url(), auth="digest"))


def test_digest_prefers_sha256_among_several_challenges(server: _Server) -> None:
    # The guard accepts only SHA-256; an extra MD5 and a Basic challenge share the header.
    server.behaviour = _digest_guard(
        "SHA-256", challenge_extra=f', Digest realm="{REALM}", nonce="x", algorithm=MD5, Basic realm="r"'
    )
    fetch_snapshot(server.url())


@pytest.mark.parametrize("guard", [_basic_guard("other"), _digest_guard("MD5", "other")])
def test_wrong_password_is_an_error(server: _Server, guard: Handler) -> None:
    server.behaviour = guard
    assert "rejected the credentials" in str(_error(server.url()))


def test_a_challenge_without_credentials_is_an_error(server: _Server) -> None:
    server.behaviour = _basic_guard()
    assert "URL has none" in str(_error(server.url(user=None)))


@pytest.mark.parametrize("status", [301, 302, 307])
def test_redirects_are_not_followed(server: _Server, status: int) -> None:
    server.behaviour = lambda req: _send(req, status, b"", {"Location": "/elsewhere.jpg"})
    assert f"HTTP {status}" in str(_error(server.url()))
    assert len(server.authorizations) == 1


def test_an_error_status_is_an_error(server: _Server) -> None:
    server.behaviour = lambda req: _send(req, 503, b"busy")
    assert "HTTP 503" in str(_error(server.url()))


def test_an_announced_body_over_the_cap_is_refused(server: _Server) -> None:
    assert "more than the 100 allowed" in str(_error(server.url(), max_bytes=100))


def test_a_streamed_body_over_the_cap_is_refused_while_streaming(server: _Server) -> None:
    sent: list[int] = []

    def endless(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.end_headers()  # no Content-Length: HTTP/1.0 style, the body ends when the socket does
        for _ in range(10_000):
            req.wfile.write(b"\xff" * 65536)
            sent.append(1)

    server.behaviour = endless
    started = time.monotonic()
    assert "larger than the 200000 bytes" in str(_error(server.url(), max_bytes=200_000, timeout=5))
    assert time.monotonic() - started < 2
    assert len(sent) < 10_000


def test_not_a_jpeg_is_an_error(server: _Server) -> None:
    server.behaviour = lambda req: _send(req, 200, b"<html>login</html>", {"Content-Type": "text/html"})
    assert "not a JPEG" in str(_error(server.url()))


def test_a_corrupt_jpeg_is_an_error(server: _Server) -> None:
    server.behaviour = lambda req: _send(req, 200, JPEG[:3] + b"\x00" * 200)
    _error(server.url())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never says anything."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_silent_server_fails_within_the_deadline(silent_port: int) -> None:
    started = time.monotonic()
    error = _error(f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{silent_port}/snap.jpg", timeout=0.5)
    assert 0.45 < time.monotonic() - started < 1.0
    assert "within 0.5 s" in str(error)


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_slow_drip_fails_within_the_total_deadline(server: _Server, where: str) -> None:
    def drip(req: BaseHTTPRequestHandler) -> None:
        req.wfile.write(b"HTTP/1.1 200 OK\r\n")
        if where == "body":
            req.wfile.write(f"Content-Length: {len(JPEG)}\r\n\r\n".encode() + JPEG[:10])
        for _ in range(60):
            req.wfile.write(b"X-Slow: 1\r\n" if where == "headers" else b"\x00")
            req.wfile.flush()
            time.sleep(0.2)

    server.behaviour = drip
    started = time.monotonic()
    assert "within 1 s" in str(_error(server.url(), timeout=1.0))
    assert 0.95 < time.monotonic() - started < 1.5


def test_unreachable_host_is_an_error() -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert "could not connect" in str(_error(f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/"))


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1/snap.jpg",
        f"rtsp://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1/snap.jpg",
        "/tmp/snap.jpg",
        f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:99999/snap.jpg",
        "http:///snap.jpg",
    ],
)
def test_bad_urls_are_errors(url: str) -> None:
    _error(url)


def test_bad_arguments_are_value_errors() -> None:
    for kwargs in ({"timeout": 0}, {"max_bytes": 0}, {"auth": "ntlm"}):
        with pytest.raises(ValueError):  # noqa: PT011 - each argument has its own message
            fetch_snapshot("http://127.0.0.1/", **kwargs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=6, max_size=20))
def test_no_error_message_contains_the_password(server: _Server, password: str) -> None:
    # After a Basic attempt the server echoes the password in its reason phrase, as a careless camera might.
    def echo(req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("Authorization") is None:
            _send(req, 401, b"", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
        else:
            req.send_response(403, f"denied {password}".encode().decode("latin-1"))
            req.send_header("Content-Length", "0")
            req.end_headers()

    server.behaviour = echo
    with pytest.raises(SnapshotError) as echoed:
        fetch_snapshot(server.url(password=password))
    if password.isascii() and password.isprintable() and password == password.strip():
        assert "HTTP 403 denied ***" in str(echoed.value)  # the echo arrived and was scrubbed
    for url, kwargs in [
        (server.url(password=password), {}),
        (server.url(password=password), {"max_bytes": 1, "auth": "basic"}),
        (server.url(password=password).replace("http", "gopher", 1), {}),
    ]:
        with pytest.raises(SnapshotError) as info:
            fetch_snapshot(url, **kwargs)  # type: ignore[arg-type]
        message = str(info.value)
        assert password not in message
        assert quote(password, safe="") not in message
        assert info.value.__cause__ is None


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_with_digest_and_a_drip_deadline(server: _Server, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server.httpd.socket = server_context.wrap_socket(server.httpd.socket, server_side=True)
    client_context = ssl.create_default_context(cafile=str(cert))
    url = server.url().replace("http://", "https://", 1)

    assert "CERTIFICATE_VERIFY_FAILED" in str(_error(url))
    server.behaviour = _digest_guard("SHA-256")
    assert fetch_snapshot(url, ssl_context=client_context).width == 32

    def drip(req: BaseHTTPRequestHandler) -> None:
        req.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(60):
            req.wfile.write(b"X-Slow: 1\r\n")
            time.sleep(0.2)

    server.behaviour = drip
    started = time.monotonic()
    _error(url, ssl_context=client_context, timeout=1.0)
    assert time.monotonic() - started < 1.5
