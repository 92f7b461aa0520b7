"""Assertions shared by the tests."""

from __future__ import annotations

from typing import Any


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict:
    """Every API error uses one envelope; check it and return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None, "error responses must be JSON"
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], dict)
    assert body["request_id"] == response.headers["X-Request-ID"]
    if code is not None:
        assert body["code"] == code, body
    return body
