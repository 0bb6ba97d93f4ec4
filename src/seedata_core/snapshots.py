"""Still pictures from a camera's HTTP snapshot URL (``image_source: camera_snapshot``).

One GET, with the standard library only: credentials come from the URL's userinfo
(``http://user:pass@cam/snap.jpg``) and answer a 401 challenge with Basic or Digest (RFC 7617, RFC 7616:
MD5 and SHA-256, their ``-sess`` forms, ``qop=auth``). Redirects are refused, the body is capped while it
streams, and one deadline bounds the whole exchange, so a camera that accepts and then stalls or drips
costs at most ``timeout`` seconds. Every failure is a :class:`SnapshotError` whose message never contains
the URL's password.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from .errors import SeedataError
from .frames import Frame
from .imaging import ImageError, decode_image

AuthMode = Literal["auto", "basic", "digest"]
AUTH_MODES: tuple[AuthMode, ...] = ("auto", "basic", "digest")
DEFAULT_TIMEOUT = 3.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
_JPEG_START = b"\xff\xd8\xff"
_DIGEST_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}

# RFC 9110 token and quoted-string, for parsing WWW-Authenticate challenges.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CHALLENGE_PART = re.compile(
    rf"\s*,?\s*(?P<name>{_TOKEN})(?:\s*=\s*(?:(?P<token>{_TOKEN})|\"(?P<quoted>(?:[^\"\\]|\\.)*)\"))?"
)


class SnapshotError(SeedataError):
    """A snapshot could not be fetched or decoded; the message names the URL without its password."""


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int | None
    path: str
    username: str | None
    password: str | None

    @property
    def shown(self) -> str:
        """The URL as messages show it: no userinfo and no query, which some cameras use for passwords."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}{self.path.split('?', 1)[0]}"


@dataclass(frozen=True)
class _Challenge:
    scheme: str
    params: dict[str, str]


def fetch_snapshot(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    auth: AuthMode = "auto",
    ssl_context: ssl.SSLContext | None = None,
) -> Frame:
    """GET the JPEG at ``url`` (http or https) and decode it.

    - ``timeout``: seconds for the whole HTTP exchange, from connecting to the last body byte, including
      a second request to answer an authentication challenge. (Resolving the host name is not bounded:
      cameras are normally addressed by IP.) Decoding then runs under :mod:`~seedata_core.imaging`'s
      own timeout.
    - ``max_bytes``: a larger body (announced or streamed) is refused without reading it all.
    - ``auth``: with credentials in the URL, ``auto`` answers a 401 with Digest when the server offers
      it, else Basic; ``basic`` sends Basic credentials on the first request; ``digest`` accepts only a
      Digest challenge.
    - ``ssl_context``: for https; the default verifies the certificate against the system's CAs.

    The frame's ``captured_at`` is when the response's headers arrived. Anything but a ``200`` (a
    redirect included), a body that is not a JPEG, or any network failure raises
    :class:`SnapshotError`. Bad arguments other than ``url`` raise ``ValueError``.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    if auth not in AUTH_MODES:
        raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, got {auth!r}")
    target = _parse(url)
    try:
        data, arrived = _exchange(target, time.monotonic() + timeout, timeout, max_bytes, auth, ssl_context)
        if not data.startswith(_JPEG_START):
            raise SnapshotError("the body is not a JPEG")
        try:
            return decode_image(data, captured_at=arrived)
        except ImageError as exc:
            raise SnapshotError(str(exc)) from None
    except SnapshotError as exc:
        raise SnapshotError(_scrub(f"snapshot from {target.shown}: {exc}", target.password)) from None


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
        username, password = parts.username, parts.password
    except ValueError:
        # urlsplit's own message may quote the URL, password included.
        raise SnapshotError("the snapshot URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise SnapshotError(f"a snapshot URL must use http or https, not {scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise SnapshotError("the snapshot URL has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        path=path,
        username=None if username is None else unquote(username),
        password=None if password is None else unquote(password),
    )


def _scrub(message: str, password: str | None) -> str:
    """``message`` with the password, raw or percent-encoded, replaced: a last guard against echoes."""
    if password:
        for form in {password, quote(password, safe=""), quote(password)}:
            message = message.replace(form, "***")
    return message


def _exchange(
    target: _Target,
    deadline: float,
    timeout: float,
    max_bytes: int,
    auth: AuthMode,
    ssl_context: ssl.SSLContext | None,
) -> tuple[bytes, datetime]:
    has_credentials = target.username is not None
    if auth == "basic" and not has_credentials:
        raise SnapshotError("Basic authentication was asked for but the URL has no credentials")
    header = _basic(target) if auth == "basic" else None
    for attempt in range(2):
        with _connection(target, deadline, timeout, ssl_context) as (conn, expired):
            try:
                headers = {"Accept": "image/jpeg", "User-Agent": "seedata"}
                if header is not None:
                    headers["Authorization"] = header
                conn.request("GET", target.path, headers=headers)
                response = conn.getresponse()
                arrived = datetime.now(UTC)
                if response.status == 200:
                    return _read_body(response, max_bytes, expired), arrived
                challenges = response.headers.get_all("WWW-Authenticate") or []
            except (OSError, http.client.HTTPException) as exc:
                if expired.is_set():
                    raise SnapshotError(f"no complete answer within {timeout:g} s") from None
                raise SnapshotError(f"{type(exc).__name__}: {exc}") from None
        if response.status != 401:
            if 300 <= response.status < 400:
                raise SnapshotError(
                    f"the camera redirects (HTTP {response.status}); redirects are not followed"
                )
            raise SnapshotError(f"the camera answered HTTP {response.status} {response.reason}".rstrip())
        if header is not None:
            raise SnapshotError("the camera rejected the credentials (HTTP 401)")
        if not has_credentials:
            raise SnapshotError("the camera asks for credentials (HTTP 401) and the URL has none")
        assert attempt == 0
        header = _answer(target, _parse_challenges(challenges), auth)
    raise AssertionError("unreachable: the second attempt always returns or raises")


@contextmanager
def _connection(
    target: _Target, deadline: float, timeout: float, ssl_context: ssl.SSLContext | None
) -> Iterator[tuple[http.client.HTTPConnection, threading.Event]]:
    """A connected HTTP(S) connection and an event set when the deadline passed and cut it off.

    A socket timeout bounds each read, not their sum: a server dripping a byte a second would never
    trip it. A timer therefore shuts the socket down at the deadline, which wakes any blocked read.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SnapshotError(f"no complete answer within {timeout:g} s")
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=remaining, context=context)
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=remaining)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            # The plain socket's shutdown: an SSL socket's own one also tears down its TLS state,
            # which the reading thread is still using.
            with suppress(OSError):  # already closed by the reading thread
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    try:
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError):
                raise SnapshotError(f"could not connect within {timeout:g} s") from None
            raise SnapshotError(f"could not connect: {type(exc).__name__}: {exc}") from None
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), cut_off)
        timer.daemon = True
        timer.start()
        try:
            yield conn, expired
        finally:
            timer.cancel()
    finally:
        conn.close()


def _read_body(response: http.client.HTTPResponse, max_bytes: int, expired: threading.Event) -> bytes:
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise SnapshotError(f"the picture has {int(length)} bytes, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise SnapshotError(f"the picture is larger than the {max_bytes} bytes allowed")
        chunks.append(chunk)
    # A cut-off connection reads as a clean end when the server sent no length: never keep that body.
    if expired.is_set():
        raise OSError("cut off at the deadline")
    return b"".join(chunks)


def _parse_challenges(values: list[str]) -> list[_Challenge]:
    """The challenges of WWW-Authenticate header values (several may share one header)."""
    challenges: list[_Challenge] = []
    for value in values:
        pos = 0
        while pos < len(value) and (match := _CHALLENGE_PART.match(value, pos)) and match.end() > pos:
            pos = match.end()
            name = match["name"]
            if match["token"] is None and match["quoted"] is None:
                challenges.append(_Challenge(scheme=name.lower(), params={}))
            elif challenges:
                raw = match["token"] if match["token"] is not None else match["quoted"]
                challenges[-1].params[name.lower()] = re.sub(r"\\(.)", r"\1", raw)
    return challenges


def _answer(target: _Target, challenges: list[_Challenge], auth: AuthMode) -> str:
    digests = [c for c in challenges if c.scheme == "digest"]
    usable = [c for c in digests if _digest_algorithm(c) is not None]
    if usable:
        # Prefer SHA-256 when the server offers both.
        best = max(usable, key=lambda c: (_digest_algorithm(c) or "").startswith("SHA-256"))
        return _digest(target, best)
    if digests:
        algorithms = ", ".join(sorted({c.params.get("algorithm", "MD5") for c in digests}))
        raise SnapshotError(f"the camera asks for an unsupported Digest algorithm or qop ({algorithms})")
    if auth == "auto" and any(c.scheme == "basic" for c in challenges):
        return _basic(target)
    offered = ", ".join(sorted({c.scheme for c in challenges})) or "none"
    wanted = "Digest" if auth == "digest" else "Basic or Digest"
    raise SnapshotError(f"the camera offers no {wanted} authentication (offered: {offered})")


def _basic(target: _Target) -> str:
    pair = f"{target.username or ''}:{target.password or ''}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _digest_algorithm(challenge: _Challenge) -> str | None:
    """The challenge's algorithm in canonical case if we can answer it (and its qop), else ``None``."""
    algorithm = challenge.params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in _DIGEST_HASHES or "nonce" not in challenge.params:
        return None
    qops = challenge.params.get("qop")
    if qops is not None and "auth" not in [q.strip().lower() for q in qops.split(",")]:
        return None
    return algorithm.replace("-SESS", "-sess")


def _digest(target: _Target, challenge: _Challenge) -> str:
    algorithm = _digest_algorithm(challenge)
    assert algorithm is not None, "only usable challenges are answered"
    hash_fn = _DIGEST_HASHES[algorithm.removesuffix("-sess")]

    def h(text: str) -> str:
        return hash_fn(text.encode()).hexdigest()

    params = challenge.params
    realm, nonce = params.get("realm", ""), params["nonce"]
    username, password = target.username or "", target.password or ""
    if not username.isascii():
        # RFC 7616's username* extension is rare in cameras; sending raw bytes would be guesswork.
        raise SnapshotError("a Digest user name must be ASCII")
    cnonce = os.urandom(16).hex()
    nc = "00000001"
    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"GET:{target.path}")
    qop = "auth" if "qop" in params else None
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}") if qop else h(f"{ha1}:{nonce}:{ha2}")
    fields = [
        f"username={_quoted(username)}",
        f"realm={_quoted(realm)}",
        f"nonce={_quoted(nonce)}",
        f"uri={_quoted(target.path)}",
        f"algorithm={algorithm}",
        f"response={_quoted(response)}",
    ]
    if qop:
        fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quoted(cnonce)}"]
    if "opaque" in params:
        fields.append(f"opaque={_quoted(params['opaque'])}")
    return "Digest " + ", ".join(fields)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
