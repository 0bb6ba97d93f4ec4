from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedata_core.auth import INVALID_CREDENTIALS, TokenService
from seedata_core.errors import AuthenticationFailed
from seedata_core.models import User

ALICE = User(id=7, email="alice@example.com", password_hash="unused")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def rejected(tokens: TokenService, token: str) -> bool:
    with pytest.raises(AuthenticationFailed) as info:
        tokens.verify(token)
    return str(info.value) == INVALID_CREDENTIALS


def private_key(storage: Any, index: int = 0) -> rsa.RSAPrivateKey:
    # Our own freshly made keys: skipping the slow validation keeps the tests quick.
    pem = storage.keys[index].private_pem.encode()
    key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def claims_now(clock: Any, **changes: Any) -> dict[str, Any]:
    now = int(clock())
    return {"sub": "7", "iat": now, "exp": now + 3600, "iss": "seedata", **changes}


# -- keys ----------------------------------------------------------------------------------------


def test_the_key_is_generated_once_and_shared_through_the_storage(
    storage: Any, make_tokens: Callable[..., TokenService]
) -> None:
    first = make_tokens(storage)
    key = first.ensure_key()
    assert first.ensure_key() == key
    assert make_tokens(storage).ensure_key() == key
    assert storage.keys == [key]
    assert key.private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert private_key(storage).key_size == 2048


def test_issuing_without_a_key_generates_one(storage: Any, tokens: TokenService) -> None:
    token = tokens.issue(ALICE)
    assert len(storage.keys) == 1
    assert jwt.get_unverified_header(token)["kid"] == storage.keys[0].kid


def test_kid_is_the_rfc7638_thumbprint(tokens: TokenService, storage: Any) -> None:
    key = tokens.ensure_key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key(storage).public_key()))
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    assert key.kid == b64(hashlib.sha256(canonical.encode()).digest())


# -- issue and verify ----------------------------------------------------------------------------


def test_round_trip(tokens: TokenService, storage: Any, clock: Any) -> None:
    token = tokens.issue(ALICE)
    assert tokens.verify(token) == 7
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": storage.keys[0].kid}
    # The fake clock is in the past, so PyJWT's own expiry check (against the real time) is off.
    claims = jwt.decode(
        token, private_key(storage).public_key(), algorithms=["RS256"], options={"verify_exp": False}
    )
    now = int(clock())
    assert claims == {"sub": "7", "iat": now, "exp": now + 3600, "iss": "seedata"}


def test_lifetime_comes_from_the_constructor(
    storage: Any, make_tokens: Callable[..., TokenService], clock: Any
) -> None:
    tokens = make_tokens(storage, lifetime=8 * 3600)
    claims = jwt.decode(tokens.issue(ALICE), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 8 * 3600


@pytest.mark.parametrize("cached", [False, True])
def test_a_token_expires_exactly_at_exp(tokens: TokenService, clock: Any, cached: bool) -> None:
    token = tokens.issue(ALICE)
    if cached:
        tokens.verify(token)
    clock.advance(3599)
    assert tokens.verify(token) == 7
    clock.advance(1)
    assert rejected(tokens, token)
    assert rejected(tokens, token)


def test_tampered_signature_and_payload_are_rejected(tokens: TokenService) -> None:
    token = tokens.issue(ALICE)
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert rejected(tokens, f"{header}.{payload}.{flipped}")
    forged = b64json({**jwt.decode(token, options={"verify_signature": False}), "sub": "1"})
    assert rejected(tokens, f"{header}.{forged}.{signature}")
    assert tokens.verify(token) == 7


def test_hs256_signed_with_the_public_key_is_rejected(tokens: TokenService, storage: Any, clock: Any) -> None:
    tokens.ensure_key()
    public = private_key(storage).public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": storage.keys[0].kid}
    signing_input = f"{b64json(header)}.{b64json(claims_now(clock))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert rejected(tokens, f"{signing_input}.{b64(mac)}")


def test_alg_none_is_rejected(tokens: TokenService, storage: Any, clock: Any) -> None:
    tokens.ensure_key()
    for alg in ("none", "None", "NONE"):
        header = b64json({"alg": alg, "typ": "JWT", "kid": storage.keys[0].kid})
        assert rejected(tokens, f"{header}.{b64json(claims_now(clock))}.")


def test_other_rsa_algorithms_with_the_right_key_are_rejected(
    tokens: TokenService, storage: Any, clock: Any
) -> None:
    tokens.ensure_key()
    kid = storage.keys[0].kid
    for alg in ("RS512", "PS256"):
        token = jwt.encode(claims_now(clock), private_key(storage), algorithm=alg, headers={"kid": kid})
        assert rejected(tokens, token)
    good = jwt.encode(claims_now(clock), private_key(storage), algorithm="RS256", headers={"kid": kid})
    assert tokens.verify(good) == 7


def test_unknown_or_missing_kid_is_rejected(tokens: TokenService, storage: Any, clock: Any) -> None:
    tokens.ensure_key()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert rejected(tokens, jwt.encode(claims_now(clock), stranger, algorithm="RS256", headers={"kid": "x"}))
    own = private_key(storage)
    # A stranger's key under our kid: the signature does not match our key.
    kid = storage.keys[0].kid
    assert rejected(tokens, jwt.encode(claims_now(clock), stranger, algorithm="RS256", headers={"kid": kid}))
    assert rejected(tokens, jwt.encode(claims_now(clock), own, algorithm="RS256"))
    # PyJWT will not write a kid that is not a string; sign one by hand.
    signing_input = f"{b64json({'alg': 'RS256', 'kid': 1})}.{b64json(claims_now(clock))}"
    signature = own.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert rejected(tokens, f"{signing_input}.{b64(signature)}")


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"iss": None},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"sub": 7},
        {"sub": "seven"},
        {"sub": "-7"},
        {"sub": "٧"},
        {"exp": "9999999999"},
        {"exp": 9999999999.5},
        {"exp": True},
        {"iat": 9999999999},
    ],
)
def test_claims_other_than_ours_are_rejected(
    tokens: TokenService, storage: Any, clock: Any, changes: dict[str, Any]
) -> None:
    tokens.ensure_key()
    claims = {k: v for k, v in claims_now(clock, **changes).items() if v is not None}
    token = jwt.encode(claims, private_key(storage), algorithm="RS256", headers={"kid": storage.keys[0].kid})
    assert rejected(tokens, token)


# The fixtures' state does not matter between examples: garbage changes nothing.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.one_of(
        st.text(max_size=200),
        st.lists(st.binary(max_size=80).map(b64), min_size=1, max_size=4).map(".".join),
        st.tuples(
            st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit"]), st.text(max_size=8)),
            st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5)),
            st.binary(max_size=300),
        ).map(lambda parts: f"{b64json(parts[0])}.{b64json(parts[1])}.{b64(parts[2])}"),
    )
)
def test_garbage_only_ever_fails_authentication(tokens: TokenService, token: str) -> None:
    tokens.ensure_key()
    with pytest.raises(AuthenticationFailed, match="invalid credentials"):
        tokens.verify(token)


# -- rotation ------------------------------------------------------------------------------------


def test_rotation_keeps_the_previous_key_for_one_rotation(tokens: TokenService, storage: Any) -> None:
    old = tokens.issue(ALICE)
    assert tokens.verify(old) == 7  # now cached as well
    first = tokens.rotate()
    new = tokens.issue(ALICE)
    assert jwt.get_unverified_header(new)["kid"] == first.kid
    assert tokens.verify(old) == 7
    assert tokens.verify(new) == 7
    tokens.rotate()
    assert rejected(tokens, old)
    assert tokens.verify(new) == 7
    assert len(storage.keys) == 2


def test_a_rotation_in_another_process_is_picked_up_at_an_unknown_kid(
    storage: Any, make_tokens: Callable[..., TokenService], monotonic: Any
) -> None:
    server, cli = make_tokens(storage), make_tokens(storage)
    server.ensure_key()
    cli.rotate()
    fresh = cli.issue(ALICE)
    monotonic.advance(1)
    reads = storage.key_reads
    assert server.verify(fresh) == 7
    assert storage.key_reads == reads + 1


def test_unknown_kids_reload_the_keys_at_most_once_a_second(
    storage: Any, make_tokens: Callable[..., TokenService], monotonic: Any, clock: Any
) -> None:
    server, cli = make_tokens(storage), make_tokens(storage)
    server.ensure_key()
    monotonic.advance(5)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    reads = storage.key_reads
    for kid in ("a", "b", "c"):
        token = jwt.encode(claims_now(clock), stranger, algorithm="RS256", headers={"kid": kid})
        assert rejected(server, token)
    assert storage.key_reads == reads + 1
    # Within that second a real rotation elsewhere is not seen yet; a second later it is.
    cli.rotate()
    fresh = cli.issue(ALICE)
    reads = storage.key_reads
    assert rejected(server, fresh)
    assert storage.key_reads == reads
    monotonic.advance(1)
    assert server.verify(fresh) == 7
    assert storage.key_reads == reads + 1


def test_keys_dropped_elsewhere_stop_working_after_key_refresh(
    storage: Any, make_tokens: Callable[..., TokenService], monotonic: Any
) -> None:
    server, cli = make_tokens(storage, key_refresh=60), make_tokens(storage)
    old = server.issue(ALICE)
    assert server.verify(old) == 7
    cli.rotate()
    cli.rotate()
    monotonic.advance(59)
    assert server.verify(old) == 7  # cached keys, at most key_refresh old
    monotonic.advance(1)
    assert rejected(server, old)
    # And the server now signs with the storage's current key.
    assert jwt.get_unverified_header(server.issue(ALICE))["kid"] == storage.keys[0].kid


# -- caching -------------------------------------------------------------------------------------


def test_a_repeated_token_is_served_from_the_cache(tokens: TokenService, storage: Any) -> None:
    token = tokens.issue(ALICE)
    tokens.verify(token)
    reads = storage.key_reads
    for _ in range(100):
        assert tokens.verify(token) == 7
    assert storage.key_reads == reads
    assert tokens.cached_tokens() == 1


def test_the_token_cache_is_bounded(storage: Any, make_tokens: Callable[..., TokenService]) -> None:
    tokens = make_tokens(storage, cache_size=3)
    issued = [tokens.issue(User(id=i, email=f"{i}@x", password_hash="-")) for i in range(1, 6)]
    for token in issued:
        tokens.verify(token)
    assert tokens.cached_tokens() == 3
    # Evicted ones still verify, the slow way.
    assert [tokens.verify(t) for t in issued] == [1, 2, 3, 4, 5]


def test_invalid_tokens_are_not_cached(tokens: TokenService) -> None:
    token = tokens.issue(ALICE)
    assert rejected(tokens, token + "x")
    assert tokens.cached_tokens() == 0


def test_bad_constructor_arguments(storage: Any) -> None:
    for kwargs in ({"lifetime": 0}, {"lifetime": 1, "cache_size": 0}, {"lifetime": 1, "key_refresh": 0.5}):
        with pytest.raises(ValueError, match="positive"):
            TokenService(storage, **kwargs)
