"""Every status and message of SPEC §1.1 that the foundation covers, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from seedata_core.service import Seedata

Client = TestClient  # type: ignore[type-arg]
JSON = "application/json; charset=UTF-8"


def error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"name": name, "message": message, "code": 0, "status": status}


def test_unknown_route(client: Client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == JSON
    assert response.json() == error(404, "Not Found", "Page not found.")


@pytest.mark.parametrize("path", ["/flows/abc", "/flows/-1", "/flows/1.5", "/flows/%D9%A3"])
def test_non_digit_flow_id_is_an_unknown_route(client: Client, auth: dict[str, str], path: str) -> None:
    response = client.get(path, headers=auth)
    assert (response.status_code, response.json()["message"]) == (404, "Page not found.")


@pytest.mark.parametrize("flow_id", ["5", "007", "9" * 40])
def test_missing_flow(client: Client, auth: dict[str, str], flow_id: str) -> None:
    response = client.get(f"/flows/{flow_id}", headers=auth)
    assert response.status_code == 404
    assert response.json() == error(404, "Not Found", f"Object not found: {flow_id}")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/flows", "GET, HEAD, OPTIONS, POST"),
        ("PUT", "/flows/search", "OPTIONS, POST"),
        ("GET", "/authenticate", "OPTIONS, POST"),
        ("HEAD", "/authenticate", "OPTIONS, POST"),
        ("POST", "/cameras", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_verb(client: Client, auth: dict[str, str], method: str, path: str, allowed: str) -> None:
    response = client.request(method, path, headers=auth)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method == "HEAD":
        assert response.content == b""
        response = client.request("GET", path, headers=auth)  # the body HEAD leaves out
    assert response.json() == error(
        405,
        "Method Not Allowed",
        f"Method Not Allowed. This URL can only handle the following request methods: {allowed}.",
    )


@pytest.mark.parametrize(
    "path", ["/health", "/cameras", "/flows", "/flows/1", "/flows?page=x", "/metrics", "/nowhere"]
)
@pytest.mark.parametrize("token", [True, False])
def test_head_is_get_without_the_body(client: Client, auth: dict[str, str], path: str, token: bool) -> None:
    headers = auth if token else {}
    got = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert head.content == b""
    assert head.status_code == got.status_code
    assert dict(head.headers) == dict(got.headers)  # Content-Length included: GET's
    assert int(got.headers["content-length"]) == len(got.content) > 0


@pytest.mark.parametrize("path", ["/authenticate", "/flows/search"])
@pytest.mark.parametrize("body", [b"{", b'{"filter": }', b"\xff\xfe", b"nul"])
def test_bad_json(client: Client, auth: dict[str, str], path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers=auth)
    assert response.status_code == 400
    payload = response.json()
    assert payload["name"] == "Bad Request"
    assert payload["message"].startswith("Invalid JSON data in request body: ")
    assert len(payload["message"]) > len("Invalid JSON data in request body: ")


def test_body_over_the_limit(client: Client, auth: dict[str, str]) -> None:
    body = b'{"filter": {"plate": "' + b"a" * (1024 * 1024) + b'"}}'
    response = client.post("/flows/search", content=body, headers=auth)
    assert response.status_code == 413
    assert response.json()["name"] == "Payload Too Large"
    assert "1048576" in response.json()["message"]


def test_body_at_the_limit_is_read(client: Client, auth: dict[str, str]) -> None:
    filler = b'{"filter": {}, "x": "'
    body = filler + b"a" * (1024 * 1024 - len(filler) - 2) + b'"}'
    assert len(body) == 1024 * 1024
    assert client.post("/flows/search", content=body, headers=auth).status_code == 200


def test_internal_error_has_no_traceback(
    client: Client, auth: dict[str, str], seedata: Seedata, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(seedata.storage, "count_flows", broken)
    response = client.get("/flows", headers=auth)
    assert response.status_code == 500
    assert response.json() == error(500, "Internal Server Error", "An internal server error occurred.")
    assert "secret" not in response.text


def test_health_reports_an_unreachable_storage(
    client: Client, seedata: Seedata, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/health").status_code == 200
    monkeypatch.setattr(seedata.storage, "ping", lambda: False)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["storage"] == "unreachable"


def test_options_needs_no_token(client: Client) -> None:
    response = client.options("/flows")
    assert response.status_code == 204
    assert "GET" in response.headers["allow"]


def test_a_storage_that_does_not_answer_is_a_503(
    client: Client, auth: dict[str, str], seedata: Seedata
) -> None:
    # The storage's own refusal (a closed storage; a stopped query or an unreachable server raise
    # the same StorageUnavailable, see the storage plugin's tests), through the API.
    seedata.storage.close()
    for response in (client.get("/flows", headers=auth), client.post("/flows/search", json={}, headers=auth)):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json() == error(503, "Service Unavailable", "The service is temporarily unavailable.")
