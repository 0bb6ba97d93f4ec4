"""Logging in with email and password, and authenticating API requests by token.

Every method is synchronous and may block for tens of milliseconds (argon2): call them from a worker
thread, never from an event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import AuthenticationFailed
from ..models import User
from ..storage import Storage
from . import passwords
from .throttle import LoginThrottle
from .tokens import INVALID_CREDENTIALS, TokenService

__all__ = ["INVALID_LOGIN", "Authenticator"]

INVALID_LOGIN = "Invalid email or password."

# Users whose state is cached at once; beyond it the cache starts over (it refills within a second).
_USER_CACHE_SIZE = 4096


class Authenticator:
    """Turns credentials into tokens and tokens into users.

    A wrong email, a wrong password and a disabled account fail alike, with :data:`INVALID_LOGIN`,
    after one argon2 verification each, so neither the answer nor its timing tells which it was.

    A token is checked on every request, so the user it names is cached for up to ``user_ttl`` seconds
    (default 1): a user disabled or deleted loses access within that time.
    """

    def __init__(
        self,
        storage: Storage,
        tokens: TokenService,
        throttle: LoginThrottle,
        *,
        user_ttl: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._tokens = tokens
        self._throttle = throttle
        self._user_ttl = user_ttl
        self._monotonic = monotonic
        self._users: dict[int, tuple[User | None, float]] = {}
        self._users_lock = threading.Lock()
        # Now, so that the first unknown email does not take longer than a wrong password.
        passwords.prepare_dummy()

    def login(self, email: str, password: str, address: str) -> str:
        """A new token for the user with this email and password, asked for from client ``address``.

        Raises :class:`~seedata_core.errors.Throttled` when the address or the account failed too
        often recently, and :class:`~seedata_core.errors.AuthenticationFailed` (:data:`INVALID_LOGIN`)
        when the email is unknown, the password wrong or the user disabled.
        """
        self._throttle.check(address, email)
        try:
            user = self._storage.get_user_by_email(email)
            if user is None:
                passwords.verify_unknown(password)
                accepted = False
            else:
                # The password first: a disabled account must cost the same verification.
                accepted = passwords.verify_password(user.password_hash, password) and user.enabled
        except BaseException:
            self._throttle.release(address, email)
            raise
        if user is None or not accepted:
            self._throttle.record_failure(address, email)
            raise AuthenticationFailed(INVALID_LOGIN)
        self._throttle.record_success(address, email)
        if passwords.needs_rehash(user.password_hash):
            user = self._storage.update_user(user.id, password_hash=passwords.hash_password(password))
        return self._tokens.issue(user)

    def authenticate(self, token: str) -> User:
        """The enabled user a valid token names; otherwise :class:`AuthenticationFailed`
        (:data:`~seedata_core.auth.tokens.INVALID_CREDENTIALS`)."""
        user = self._user(self._tokens.verify(token))
        if user is None or not user.enabled:
            raise AuthenticationFailed(INVALID_CREDENTIALS)
        return user

    def _user(self, user_id: int) -> User | None:
        now = self._monotonic()
        cached = self._users.get(user_id)
        if cached is not None and now - cached[1] < self._user_ttl:
            return cached[0]
        user = self._storage.get_user(user_id)
        with self._users_lock:
            if len(self._users) >= _USER_CACHE_SIZE:
                self._users.clear()
            self._users[user_id] = (user, now)
        return user
