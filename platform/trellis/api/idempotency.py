"""Idempotency keys on the API's record writes (``Idempotency-Key`` header), as Stripe
has them: a retry of a create, update or upsert gets the first answer again and
writes nothing.

The key belongs to the tenant and the actor. Its answer (status, body, the headers
that matter) is saved in the transaction of the write itself
(trellis.request_transaction.enclosing), so a crash between the two cannot leave a
write whose retry would write again. The answers of refused requests (4xx) are kept
too, each refusal rolled back to a savepoint first; failures of ours (5xx) are not, so
they may be retried. While one request holds a key, another with the same key gets a
409 rather than waiting or writing twice; the same key sent with another method, path
or body is a 422.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from trellis import request_transaction
from trellis.actor import Actor
from trellis.api.idempotency_store import Answer, Scope, claim, save_answer, stored_answer
from trellis.errors import BadRequest, Conflict, TrellisError, ValidationError
from trellis.identity.auth import require_actor
from trellis.state import get_state

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: Headers of an answer that a replay gives again.
KEPT_HEADERS = ("Content-Type", "ETag", "Location")
REPLAYED = "Idempotent-Replayed"


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour an ``Idempotency-Key`` on ``view``, a write through ``tenant_transaction``."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        actor = require_actor()
        scope = Scope(actor.tenant_id, _principal(actor), _checked(key))
        fingerprint = _fingerprint()
        with request_transaction.enclosing(get_state().database, actor.tenant_id) as connection:
            if not claim(connection, scope):
                raise Conflict(
                    "A request with this Idempotency-Key is still in progress; retry once "
                    "it has finished.",
                    code="idempotency_key_in_use",
                )
            stored = stored_answer(connection, scope)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ValidationError(
                        "This Idempotency-Key was used with another request; a key is for "
                        "one method, path and body. Use a new key for a new request.",
                        code="idempotency_key_reused",
                        fields={HEADER: "Used with another request."},
                    )
                return _replay(stored)
            savepoint = connection.begin_nested()
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except TrellisError as error:
                if error.status >= 500:
                    raise
                savepoint.rollback()  # a refusal writes nothing, but its answer is kept
                response = current_app.make_response(current_app.handle_user_exception(error))
            else:
                savepoint.commit()
            if response.status_code < 500:
                save_answer(connection, scope, _answer(fingerprint, response))
        return response

    return guarded


def _checked(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"{HEADER} is an opaque string of 1 to {MAX_KEY_LENGTH} printable characters.",
            code="invalid_idempotency_key",
            fields={HEADER: f"1 to {MAX_KEY_LENGTH} printable characters."},
        )
    return key


def _principal(actor: Actor) -> str:
    if actor.user_id is not None:
        return f"user:{actor.user_id}"
    return f"token:{actor.token_id}"


def _fingerprint() -> str:
    """A digest of what the request asks: method, path with query, and body (JSON in a
    canonical form, so that the order of its keys does not matter)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _answer(fingerprint: str, response: Response) -> Answer:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    return Answer(fingerprint, response.status_code, headers, response.get_data(as_text=True))


def _replay(stored: Answer) -> Response:
    response = Response(stored.body, status=stored.status, headers=stored.headers)
    response.headers[REPLAYED] = "true"
    return response
