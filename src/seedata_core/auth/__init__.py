"""Authentication: argon2id passwords, RS256 API tokens, login throttling, and the service tying them.

No HTTP here. The server builds one :class:`Authenticator` from the storage and the settings and calls
it from worker threads::

    tokens = TokenService(storage, lifetime=settings.token_lifetime)
    tokens.ensure_key()  # generates the key pair on first start
    throttle = LoginThrottle(
        settings.login_attempts_per_address, settings.login_attempts_per_account, settings.login_window
    )
    auth = Authenticator(storage, tokens, throttle)
    token = auth.login(email, password, client_address)  # AuthenticationFailed, Throttled
    user = auth.authenticate(token)  # AuthenticationFailed
"""

from .passwords import hash_password, needs_rehash, verify_password, verify_unknown
from .service import INVALID_LOGIN, Authenticator
from .throttle import LoginThrottle
from .tokens import INVALID_CREDENTIALS, TokenService

__all__ = [
    "INVALID_CREDENTIALS",
    "INVALID_LOGIN",
    "Authenticator",
    "LoginThrottle",
    "TokenService",
    "hash_password",
    "needs_rehash",
    "verify_password",
    "verify_unknown",
]
