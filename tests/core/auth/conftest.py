"""Fixtures for the auth tests: an in-memory stand-in for the user and key parts of the Storage contract,
hand-driven clocks, and one password hashed once per session (argon2 costs tens of milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import pytest

from seedata_core.auth import LoginThrottle, TokenService, hash_password
from seedata_core.errors import StorageUnavailable
from seedata_core.models import SigningKey, User

PASSWORD = "correct horse battery staple"


class MemoryStorage:
    """The user and signing-key methods of :class:`seedata_core.storage.Storage`, kept in dicts.

    ``key_reads`` counts calls of ``signing_keys`` so tests can see when keys are reloaded; ``down``
    makes user lookups fail as an unreachable database would.
    """

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.keys: list[SigningKey] = []
        self.key_reads = 0
        self.down = False

    def add_user(self, email: str, password_hash: str) -> User:
        user = User(id=len(self.users) + 1, email=email, password_hash=password_hash)
        self.users[user.id] = user
        return user

    def get_user(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def get_user_by_email(self, email: str) -> User | None:
        if self.down:
            raise StorageUnavailable("storage unreachable")
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def update_user(
        self, user_id: int, *, enabled: bool | None = None, password_hash: str | None = None
    ) -> User:
        # A new object each time, as a database would return: nobody's copy changes behind their back.
        user = msgspec.structs.replace(self.users[user_id])
        if enabled is not None:
            user.enabled = enabled
        if password_hash is not None:
            user.password_hash = password_hash
        self.users[user_id] = user
        return user

    def signing_keys(self) -> list[SigningKey]:
        self.key_reads += 1
        return list(self.keys)

    def add_signing_key(self, key: SigningKey, *, keep: int = 2) -> None:
        self.keys = [key, *self.keys][:keep]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def clock() -> FakeClock:
    """Wall-clock seconds since the epoch."""
    return FakeClock(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp())


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def make_tokens(clock: FakeClock, monotonic: FakeClock) -> Callable[..., TokenService]:
    """TokenServices on a given storage sharing the fake clocks; keyword arguments override defaults."""

    def make(storage: MemoryStorage, **options: object) -> TokenService:
        kwargs: dict[str, object] = {"lifetime": 3600, "clock": clock, "monotonic": monotonic, **options}
        return TokenService(storage, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def tokens(storage: MemoryStorage, make_tokens: Callable[..., TokenService]) -> TokenService:
    return make_tokens(storage)


@pytest.fixture
def make_throttle(monotonic: FakeClock) -> Callable[..., LoginThrottle]:
    def make(per_address: int = 20, per_account: int = 5, window: float = 300) -> LoginThrottle:
        return LoginThrottle(per_address, per_account, window, clock=monotonic)

    return make


@pytest.fixture(scope="session")
def new_clock() -> Callable[[float], FakeClock]:
    """FakeClock's constructor, for tests (hypothesis ones) that need a fresh clock per example."""
    return FakeClock
