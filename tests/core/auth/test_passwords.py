from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import given, settings
from hypothesis import strategies as st

from seedata_core.auth import passwords
from seedata_core.auth.passwords import hash_password, needs_rehash, verify_password, verify_unknown

PASSWORD = "correct horse battery staple"


def test_hash_is_argon2id_with_the_agreed_parameters(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_round_trip(password_hash: str) -> None:
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, PASSWORD + " ")
    assert not verify_password(password_hash, PASSWORD.upper())


def test_each_hash_has_its_own_salt(password_hash: str) -> None:
    other = hash_password(PASSWORD)
    assert other != password_hash
    assert verify_password(other, PASSWORD)


@pytest.mark.parametrize("password", ["é\u0301 ünïcødé 🔑", "\ud800 lone surrogate", "x" * 1024, "a"])
def test_any_password_of_allowed_length_round_trips(password: str) -> None:
    hashed = hash_password(password)
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password[:-1] + "!")


@pytest.mark.parametrize("password", ["", "x" * 1025])
def test_passwords_outside_the_length_limit_cannot_be_set(password: str) -> None:
    with pytest.raises(ValueError, match="1 to 1024"):
        hash_password(password)


def test_an_overlong_password_is_wrong_without_being_hashed() -> None:
    hashed = hash_password("x" * 1024)
    assert not verify_password(hashed, "x" * 1025)
    assert not verify_password(hashed, "")

    def median_seconds(password: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            verify_password(hashed, password)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    # Ten megabytes refused in a fraction of the time one real verification takes.
    assert median_seconds("x" * 10_000_000) < median_seconds("x" * 1024) / 4


@pytest.mark.parametrize(
    "bad_hash",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$????",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=19456,t=2,p=1$ünïcødé$ü",
    ],
)
def test_a_malformed_hash_is_a_mismatch_not_an_error(bad_hash: str) -> None:
    assert verify_password(bad_hash, PASSWORD) is False
    assert needs_rehash(bad_hash)


def test_a_truncated_real_hash_is_a_mismatch(password_hash: str) -> None:
    assert not verify_password(password_hash[:-5], PASSWORD)


@settings(max_examples=200, deadline=None)
@given(bad_hash=st.text(max_size=120), password=st.text(min_size=1, max_size=40))
def test_verify_never_raises_for_arbitrary_hashes(bad_hash: str, password: str) -> None:
    assert verify_password(bad_hash, password) is False


def test_hashes_with_older_parameters_still_verify_and_need_a_rehash(password_hash: str) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    argon2i = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.I).hash(PASSWORD)
    for hashed in (old, argon2i):
        assert verify_password(hashed, PASSWORD)
        assert needs_rehash(hashed)
    assert not needs_rehash(password_hash)


def test_the_dummy_hash_is_made_once_and_matches_nothing() -> None:
    dummy = passwords.prepare_dummy()
    assert passwords.prepare_dummy() is dummy
    assert dummy.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    verify_unknown(PASSWORD)
    assert not verify_password(dummy, PASSWORD)
