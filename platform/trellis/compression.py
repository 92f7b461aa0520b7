"""Compressed answers (flask-compress): gzip, Brotli, zstd or deflate, as the client's
``Accept-Encoding`` prefers, for text and JSON bodies of at least ``MIN_SIZE`` bytes;
every answer of those types says ``Vary: Accept-Encoding``.

Streamed answers (CSV exports) are left as they are: flask-compress can compress a
stream only without gzip and flushing every chunk, and a download that starts at once
matters more there than its size.

A compressed answer's strong ETag gains the coding (``"3"`` becomes ``"3:gzip"``, as two
representations must not share a strong validator); ``If-Match`` and ``If-None-Match``
accept either form (trellis.api.records).
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

# Below about a kilobyte the compressed body plus its header saves less than a packet.
MIN_SIZE = 1024


def init_app(app: Flask) -> None:
    app.config.update(
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_STREAMS=False,
        # The views answer conditional requests themselves (a record read with expanded
        # lookups is never "not modified", though its ETag matches).
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,
        COMPRESS_ALGORITHM=["zstd", "br", "gzip", "deflate"],
    )
    Compress(app)
