from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher, Type

from seedata_core.auth import (
    INVALID_CREDENTIALS,
    INVALID_LOGIN,
    Authenticator,
    LoginThrottle,
    TokenService,
    verify_password,
)
from seedata_core.auth.passwords import needs_rehash
from seedata_core.errors import AuthenticationFailed, StorageUnavailable, Throttled
from seedata_core.models import User

PASSWORD = "correct horse battery staple"
ADDRESS = "192.0.2.10"


@pytest.fixture
def alice(storage: Any, password_hash: str) -> User:
    user: User = storage.add_user("alice@example.com", password_hash)
    return user


@pytest.fixture
def make_auth(
    storage: Any, tokens: TokenService, make_throttle: Callable[..., LoginThrottle], monotonic: Any
) -> Callable[..., Authenticator]:
    def make(**limits: Any) -> Authenticator:
        return Authenticator(storage, tokens, make_throttle(**limits), monotonic=monotonic)

    return make


@pytest.fixture
def auth(make_auth: Callable[..., Authenticator]) -> Authenticator:
    return make_auth()


def login_fails(auth: Authenticator, email: str, password: str, address: str = ADDRESS) -> bool:
    with pytest.raises(AuthenticationFailed) as info:
        auth.login(email, password, address)
    return str(info.value) == INVALID_LOGIN


def token_fails(auth: Authenticator, token: str) -> bool:
    with pytest.raises(AuthenticationFailed) as info:
        auth.authenticate(token)
    return str(info.value) == INVALID_CREDENTIALS


def test_login_then_authenticate(auth: Authenticator, alice: User, tokens: TokenService) -> None:
    token = auth.login("alice@example.com", PASSWORD, ADDRESS)
    assert tokens.verify(token) == alice.id
    assert auth.authenticate(token) == alice
    # Emails compare case-insensitively, as the storage does.
    assert auth.authenticate(auth.login("Alice@Example.COM", PASSWORD, ADDRESS)).id == alice.id


def test_wrong_password_unknown_email_and_disabled_user_fail_alike(
    auth: Authenticator, alice: User, storage: Any
) -> None:
    assert login_fails(auth, "alice@example.com", PASSWORD + "!")
    assert login_fails(auth, "nobody@example.com", PASSWORD)
    assert login_fails(auth, "alice@example.com", "")
    assert login_fails(auth, "alice@example.com", "x" * 5000)
    storage.update_user(alice.id, enabled=False)
    assert login_fails(auth, "alice@example.com", PASSWORD)


def test_a_disabled_users_token_stops_working_within_a_second(
    auth: Authenticator, alice: User, storage: Any, monotonic: Any
) -> None:
    token = auth.login("alice@example.com", PASSWORD, ADDRESS)
    auth.authenticate(token)
    storage.update_user(alice.id, enabled=False)
    monotonic.advance(0.5)
    auth.authenticate(token)  # the user's state is cached for up to a second
    monotonic.advance(0.5)
    assert token_fails(auth, token)
    storage.update_user(alice.id, enabled=True)
    monotonic.advance(1)
    assert auth.authenticate(token).enabled


def test_a_deleted_users_token_fails(auth: Authenticator, tokens: TokenService) -> None:
    ghost = User(id=404, email="ghost@example.com", password_hash="-")
    assert token_fails(auth, tokens.issue(ghost))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c"])
def test_garbage_tokens_fail(auth: Authenticator, token: str) -> None:
    assert token_fails(auth, token)


def test_failed_logins_are_throttled_even_with_the_right_password_later(
    make_auth: Callable[..., Authenticator], alice: User, monotonic: Any
) -> None:
    auth = make_auth(per_account=2, per_address=100, window=60)
    assert login_fails(auth, "alice@example.com", "guess 1")
    assert login_fails(auth, "ALICE@example.com", "guess 2", address="198.51.100.7")
    with pytest.raises(Throttled) as info:
        auth.login("alice@example.com", PASSWORD, ADDRESS)
    assert info.value.retry_after == 60
    monotonic.advance(60)
    auth.login("alice@example.com", PASSWORD, ADDRESS)
    # The success cleared the account's failures.
    assert login_fails(auth, "alice@example.com", "guess 3")
    auth.login("alice@example.com", PASSWORD, ADDRESS)


def test_an_address_guessing_many_accounts_is_throttled(
    make_auth: Callable[..., Authenticator], alice: User
) -> None:
    auth = make_auth(per_account=100, per_address=3, window=60)
    for name in ("bob", "carol", "dave"):
        assert login_fails(auth, f"{name}@example.com", PASSWORD)
    with pytest.raises(Throttled):
        auth.login("alice@example.com", PASSWORD, ADDRESS)
    auth.login("alice@example.com", PASSWORD, "192.0.2.11")


def test_a_storage_failure_is_not_counted_as_a_failed_login(
    make_auth: Callable[..., Authenticator], alice: User, storage: Any
) -> None:
    auth = make_auth(per_account=1, per_address=1, window=60)
    storage.down = True
    for _ in range(3):
        with pytest.raises(StorageUnavailable):
            auth.login("alice@example.com", PASSWORD, ADDRESS)
    storage.down = False
    auth.login("alice@example.com", PASSWORD, ADDRESS)


def test_an_outdated_hash_is_replaced_at_login(auth: Authenticator, storage: Any) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    user = storage.add_user("old@example.com", old)
    auth.login("old@example.com", PASSWORD, ADDRESS)
    new = storage.get_user(user.id).password_hash
    assert new != old
    assert not needs_rehash(new)
    assert verify_password(new, PASSWORD)


def test_an_unknown_email_takes_as_long_as_a_wrong_password(
    make_auth: Callable[..., Authenticator], alice: User
) -> None:
    auth = make_auth(per_account=100, per_address=100)

    def seconds(email: str) -> float:
        start = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            auth.login(email, "wrong password", ADDRESS)
        return time.perf_counter() - start

    known: list[float] = []
    unknown: list[float] = []
    for _ in range(5):  # interleaved, so a burst of machine load hits both alike
        known.append(seconds("alice@example.com"))
        unknown.append(seconds("nobody@example.com"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (known, unknown)
    # And both really spend an argon2 verification, not a shortcut.
    assert min(known + unknown) > 0.005
