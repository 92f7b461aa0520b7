"""Webhook signatures: the HMAC headers every outbound call carries, and :func:`verify`
for receivers written in Python (and for tests).

Each request carries ``X-Trellis-Timestamp`` (Unix seconds) and
``X-Trellis-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's
secret of ``f"{timestamp}."`` followed by the raw request body. A receiver:

1. reads the raw body bytes (before any JSON parsing, which would change them);
2. refuses the request when the timestamp is more than five minutes from its own
   clock (the replay window: a captured request cannot be replayed later);
3. computes the HMAC over ``timestamp + "." + body`` with the shared secret and
   compares it to the header in constant time (``hmac.compare_digest``);
4. optionally remembers signatures seen within the window to refuse exact replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Trellis-Timestamp"
SIGNATURE_HEADER = "X-Trellis-Signature"
REPLAY_WINDOW_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body`` with ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that let a receiver authenticate ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"sha256={sign(secret, timestamp, body)}",
    }


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    *,
    tolerance_seconds: int = REPLAY_WINDOW_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether a request's signature headers are valid for ``body`` and recent enough."""
    try:
        timestamp = int(timestamp_header)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        return False
    scheme, _, signature = (signature_header or "").partition("=")
    return scheme == "sha256" and hmac.compare_digest(signature, sign(secret, timestamp, body))
