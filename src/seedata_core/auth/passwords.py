"""Password hashing with argon2id at OWASP's minimum parameters (19 MiB, two passes, one lane).

Hashing and verifying are deliberately slow (tens of milliseconds) and block the calling thread: call
them from a worker thread, never from an event loop.

Only passwords of 1 to :data:`MAX_PASSWORD_LENGTH` characters exist. A longer or empty one is wrong
without being hashed, so nobody can make the server hash megabytes; that answer is quick, but it is
the same for every account and so says nothing about which accounts exist.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MEMORY_COST_KIB",
    "PARALLELISM",
    "TIME_COST",
    "hash_password",
    "needs_rehash",
    "prepare_dummy",
    "verify_password",
    "verify_unknown",
]

MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
MAX_PASSWORD_LENGTH = 1024

_HASHER = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, type=Type.ID
)

_dummy_lock = threading.Lock()
_dummy_hash: str | None = None


def _acceptable(password: str) -> bool:
    return 1 <= len(password) <= MAX_PASSWORD_LENGTH


def _encode(password: str) -> bytes:
    # "surrogatepass": JSON may carry lone surrogates; they must hash like any other character
    # instead of raising somewhere deep in a login.
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """The argon2id PHC string of ``password``; ``ValueError`` unless it has 1..1024 characters."""
    if not _acceptable(password):
        raise ValueError(f"a password has 1 to {MAX_PASSWORD_LENGTH} characters")
    return _HASHER.hash(_encode(password))


def verify_password(hash: str, password: str) -> bool:
    """Whether ``password`` matches ``hash``; ``False`` (never an exception) for a malformed hash."""
    if not _acceptable(password):
        return False
    try:
        return _HASHER.verify(hash.encode("ascii"), _encode(password))
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def needs_rehash(hash: str) -> bool:
    """Whether ``hash`` was made with other parameters than today's (a malformed one counts as such)."""
    try:
        return _HASHER.check_needs_rehash(hash)
    except InvalidHashError:
        return True


def prepare_dummy() -> str:
    """The hash :func:`verify_unknown` checks against, computed once per process.

    Call it at start-up so that the first unknown email does not cost a hash on top of a verification.
    """
    global _dummy_hash  # noqa: PLW0603 - one lazily built constant; a class would add nothing
    with _dummy_lock:
        if _dummy_hash is None:
            # A random secret nobody knows, so no password can ever match it.
            _dummy_hash = _HASHER.hash(secrets.token_urlsafe(32))
        return _dummy_hash


def verify_unknown(password: str) -> None:
    """Spend the time a real verification of ``password`` would take; for logins of unknown emails."""
    verify_password(prepare_dummy(), password)
