"""API tokens: RS256 JWTs signed with a key pair kept in the storage.

A token carries ``sub`` (the user id as a string), ``iat``, ``exp`` and ``iss`` in its claims and the
signing key's ``kid`` in its header. Verification accepts only RS256 (never ``none`` nor an HMAC
algorithm keyed with the public key) and only the keys the storage keeps: the current one and the one
before it, so a rotation leaves tokens already handed out valid until they expire, and a second
rotation ends them.

Verification runs on every API request, so it is cheap after the first time: a verified token goes into
a bounded LRU cache of token string to (user id, expiry), which makes a repeated token cost a dictionary
lookup; its expiry is still checked each time. Parsed keys are cached too; they are reloaded from the
storage when a token names a ``kid`` this process does not know (another process rotated), at most once
per second, and every ``key_refresh`` seconds so that keys dropped elsewhere stop being accepted here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import AuthenticationFailed, SeedataError
from ..models import SigningKey, User
from ..storage import Storage

__all__ = ["ALGORITHM", "INVALID_CREDENTIALS", "TokenService"]

ALGORITHM = "RS256"
INVALID_CREDENTIALS = "Your request was made with invalid credentials."

_KEY_BITS = 2048
# Tolerated clock difference between servers that share a storage, for a token's ``iat``.
_IAT_LEEWAY = 30
# Fewest seconds between two reloads of the keys from the storage.
_MIN_RELOAD_INTERVAL = 1.0
# A user id is a database integer; a longer ``sub`` is not one of ours.
_MAX_SUB_DIGITS = 20
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss"]
# Expiry and issue time are checked here against the service's clock, not by PyJWT against time.time().
_DECODE_OPTIONS: Any = {
    "require": _REQUIRED_CLAIMS,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


class _Keys:
    """One consistent view of the kept keys: the current one for signing, all of them for verifying."""

    def __init__(
        self, current: SigningKey | None, private: dict[str, rsa.RSAPrivateKey], loaded_at: float
    ) -> None:
        self.current = current
        self.private = private
        self.public = {kid: key.public_key() for kid, key in private.items()}
        self.loaded_at = loaded_at

    def signer(self) -> tuple[SigningKey, rsa.RSAPrivateKey] | None:
        """The current key and its parsed private half, or ``None`` when there is no key."""
        return None if self.current is None else (self.current, self.private[self.current.kid])


class TokenService:
    """Issues and verifies the API tokens of the users in ``storage``. Thread-safe; all calls are sync.

    ``lifetime`` is a token's validity in seconds; ``clock`` gives the time in seconds since the epoch
    for ``iat`` and ``exp``; ``monotonic`` paces the key reloads.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        lifetime: int,
        issuer: str = "seedata",
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        cache_size: int = 10_000,
        key_refresh: float = 60.0,
    ) -> None:
        if lifetime <= 0 or cache_size < 1 or key_refresh < _MIN_RELOAD_INTERVAL:
            raise ValueError("lifetime and cache_size must be positive, key_refresh at least 1 s")
        self._storage = storage
        self._lifetime = lifetime
        self._issuer = issuer
        self._clock = clock
        self._monotonic = monotonic
        self._cache_size = cache_size
        self._key_refresh = key_refresh
        self._keys = _Keys(None, {}, -float("inf"))
        self._keys_lock = threading.Lock()
        self._verified: OrderedDict[str, tuple[int, int]] = OrderedDict()
        # Bumped whenever the cache is emptied, so a verification that raced with it is not cached.
        self._generation = 0
        self._verified_lock = threading.Lock()

    # -- keys ----------------------------------------------------------------------------------------
    def ensure_key(self) -> SigningKey:
        """The current signing key, generated and stored first if the storage has none."""
        return self._ensure_signer()[0]

    def _ensure_signer(self) -> tuple[SigningKey, rsa.RSAPrivateKey]:
        with self._keys_lock:
            signer = self._reload().signer()
            if signer is None:
                key, private = self._generate()
                self._storage.add_signing_key(key)
                # Read back rather than use the key just made: if another process made one at the same
                # time, every process settles on the storage's newest.
                signer = self._reload({key.kid: private}).signer()
            if signer is None:
                raise SeedataError("the storage did not keep the new signing key")
            return signer

    def rotate(self) -> SigningKey:
        """Make a new key the current one. Tokens of the previous key stay valid until they expire;
        those of older keys stop being valid now (in other processes, within ``key_refresh``)."""
        key, private = self._generate()
        with self._keys_lock:
            self._storage.add_signing_key(key)
            self._reload({key.kid: private})
        return key

    def _generate(self) -> tuple[SigningKey, rsa.RSAPrivateKey]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key = SigningKey(
            kid=_thumbprint(private.public_key()),
            private_pem=pem.decode("ascii"),
            created_at=datetime.fromtimestamp(self._clock(), UTC),
        )
        return key, private

    def _reload(self, made_here: dict[str, rsa.RSAPrivateKey] | None = None) -> _Keys:
        """Read the kept keys from the storage. Hold the keys lock.

        Only keys neither parsed before nor in ``made_here`` (generated by this process) are parsed:
        loading a PEM private key validates it, which takes tens of milliseconds.
        """
        old = self._keys
        parsed = {**old.private, **(made_here or {})}
        stored = self._storage.signing_keys()
        private = {key.kid: parsed.get(key.kid) or _load_private(key) for key in stored}
        keys = _Keys(stored[0] if stored else None, private, self._monotonic())
        self._keys = keys
        if not old.private.keys() <= private.keys():
            # A key was dropped: the cached tokens it signed must not outlive it.
            with self._verified_lock:
                self._verified.clear()
                self._generation += 1
        return keys

    def _fresh_keys(self, *, unknown_kid: bool = False) -> _Keys:
        """The cached keys, reloaded first if older than ``key_refresh`` (or than 1 s when a token named
        a kid they lack)."""
        keys = self._keys
        max_age = _MIN_RELOAD_INTERVAL if unknown_kid else self._key_refresh
        if self._monotonic() - keys.loaded_at < max_age:
            return keys
        with self._keys_lock:
            if self._monotonic() - self._keys.loaded_at < max_age:  # another thread just reloaded
                return self._keys
            return self._reload()

    # -- tokens --------------------------------------------------------------------------------------
    def issue(self, user: User) -> str:
        """A new token for ``user``, signed with the current key (generated first if there is none)."""
        current, private = self._fresh_keys().signer() or self._ensure_signer()
        now = int(self._clock())
        claims = {"sub": str(user.id), "iat": now, "exp": now + self._lifetime, "iss": self._issuer}
        return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": current.kid})

    def verify(self, token: str) -> int:
        """The user id a valid token was issued for.

        Raises :class:`AuthenticationFailed` (message :data:`INVALID_CREDENTIALS`) when the token is
        malformed, expired, signed with an unknown or dropped key or another algorithm than RS256, or
        issued by someone else.
        """
        # Before the cache: a reload that finds a key dropped also empties the cache.
        self._fresh_keys()
        now = self._clock()
        with self._verified_lock:
            hit = self._verified.get(token)
            if hit is not None:
                if now < hit[1]:
                    self._verified.move_to_end(token)
                    return hit[0]
                del self._verified[token]
                raise AuthenticationFailed(INVALID_CREDENTIALS)
            generation = self._generation
        user_id, expires = self._verify_signed(token, now)
        with self._verified_lock:
            if generation == self._generation:
                self._verified[token] = (user_id, expires)
                if len(self._verified) > self._cache_size:
                    self._verified.popitem(last=False)
        return user_id

    def cached_tokens(self) -> int:
        """How many verified tokens are cached now (for metrics; never more than ``cache_size``)."""
        with self._verified_lock:
            return len(self._verified)

    def _verify_signed(self, token: str, now: float) -> tuple[int, int]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("alg") != ALGORITHM or not isinstance(kid, str):
                raise AuthenticationFailed(INVALID_CREDENTIALS)
            public = self._keys.public.get(kid) or self._fresh_keys(unknown_kid=True).public.get(kid)
            if public is None:
                raise AuthenticationFailed(INVALID_CREDENTIALS)
            claims = jwt.decode(
                token, public, algorithms=[ALGORITHM], issuer=self._issuer, options=_DECODE_OPTIONS
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(INVALID_CREDENTIALS) from exc
        sub, issued, expires = claims["sub"], claims["iat"], claims["exp"]
        if not (
            isinstance(sub, str)
            and len(sub) <= _MAX_SUB_DIGITS
            and sub.isascii()
            and sub.isdecimal()
            and _is_int(issued)
            and _is_int(expires)
            and issued <= now + _IAT_LEEWAY
            and now < expires
        ):
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        return int(sub), expires


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_private(key: SigningKey) -> rsa.RSAPrivateKey:
    private = serialization.load_pem_private_key(key.private_pem.encode("ascii"), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SeedataError(f"signing key {key.kid} is not an RSA key")
    return private


def _thumbprint(public: rsa.RSAPublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint: a kid that names the key material itself."""
    numbers = public.public_numbers()

    def b64(number: int) -> str:
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    canonical = json.dumps({"e": b64(numbers.e), "kty": "RSA", "n": b64(numbers.n)}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
