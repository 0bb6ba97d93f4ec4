"""POST /authenticate and bearer tokens, through HTTP (SPEC §1.2)."""

from __future__ import annotations

import time

import jwt
import pytest
from litestar.testing import TestClient
from seedata_storage_sql.testing import ALL_DATABASES

from seedata_core.models import User
from seedata_core.service import Seedata

from .conftest import EMAIL, PASSWORD

Client = TestClient  # type: ignore[type-arg]
DATABASES = ALL_DATABASES  # every test runs on SQLite, PostgreSQL and MariaDB
INVALID = {
    "name": "Unauthorized",
    "message": "Your request was made with invalid credentials.",
    "code": 0,
    "status": 401,
}


def test_login_answers_the_documented_shape(client: Client, user: User) -> None:
    response = client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert body["success"] is True
    assert set(body) == {"success", "data"}
    assert set(body["data"]) == {"token"}
    header = jwt.get_unverified_header(body["data"]["token"])
    assert header["alg"] == "RS256"
    assert header["kid"]
    claims = jwt.decode(body["data"]["token"], options={"verify_signature": False})
    assert claims["sub"] == str(user.id)
    assert claims["exp"] - claims["iat"] == 8 * 3600
    assert claims["iss"]


def test_email_is_case_insensitive(client: Client, user: User) -> None:
    response = client.post("/authenticate", json={"email": EMAIL.upper(), "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"email": EMAIL, "password": "wrong"}, {"email": "nobody@example.com", "password": PASSWORD}],
)
def test_wrong_login_is_one_answer(client: Client, user: User, body: dict[str, str]) -> None:
    response = client.post("/authenticate", json=body)
    assert response.status_code == 401
    assert response.json() == {
        "name": "Unauthorized",
        "message": "Invalid email or password.",
        "code": 0,
        "status": 401,
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            [
                {"field": "email", "message": "Email cannot be blank."},
                {"field": "password", "message": "Password cannot be blank."},
            ],
        ),
        ({"email": "a@b.c", "password": ""}, [{"field": "password", "message": "Password cannot be blank."}]),
        ({"email": 5, "password": "x"}, [{"field": "email", "message": "Email must be a string."}]),
        ([1, 2], None),
    ],
)
def test_login_validation(client: Client, body: object, errors: list[dict[str, str]] | None) -> None:
    response = client.post("/authenticate", json=body)
    assert response.status_code == 422
    if errors is not None:
        assert response.json() == errors


def test_failed_logins_are_throttled_per_account(client: Client, user: User) -> None:
    for _ in range(4):
        assert client.post("/authenticate", json={"email": EMAIL, "password": "bad"}).status_code == 401
    response = client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["name"] == "Too Many Requests"
    assert int(response.headers["retry-after"]) >= 1


def test_failed_logins_are_throttled_per_address(client: Client, user: User) -> None:
    for i in range(8):
        body = {"email": f"guess{i}@example.com", "password": "bad"}
        assert client.post("/authenticate", json=body).status_code == 401
    assert client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD}).status_code == 429


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c"],
)
def test_bad_tokens(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for path in ("/flows", "/cameras", "/flows/1"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.json() == INVALID
        assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    response = client.post("/flows/search", json={}, headers=headers)
    assert response.status_code == 401


def test_tampered_and_foreign_tokens(client: Client, token: str) -> None:
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    forged = jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, "secret", algorithm="HS256")
    for bad in (tampered, forged):
        assert client.get("/flows", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_expired_token(client: Client, seedata: Seedata, user: User) -> None:
    key = seedata.storage.signing_keys()[0]
    now = int(time.time())
    expired = jwt.encode(
        {"sub": str(user.id), "iat": now - 7200, "exp": now - 3600, "iss": "seedata"},
        key.private_pem,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    assert client.get("/flows", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_disabled_user_tokens_stop_working(client: Client, seedata: Seedata, user: User, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/flows", headers=headers).status_code == 200
    seedata.storage.update_user(user.id, enabled=False)
    time.sleep(1.1)
    assert client.get("/flows", headers=headers).status_code == 401
    login = client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 401


def test_token_survives_one_rotation(client: Client, seedata: Seedata, token: str) -> None:
    seedata.tokens.rotate()
    assert client.get("/flows", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_health_and_openapi_need_no_token(client: Client) -> None:
    assert client.get("/health").status_code == 200
    document = client.get("/schema/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"authenticate", "listFlows", "getFlow", "searchFlows", "listCameras", "health"} <= operations


def test_form_encoded_login(client: Client, user: User) -> None:
    response = client.post("/authenticate", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["success"] is True
