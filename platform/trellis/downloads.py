"""File downloads the API and the screens both answer with."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, stream_with_context


def streamed_csv(body: Iterator[str], name: str) -> Response:
    """A CSV file sent as ``body`` (a generator of text pieces) yields it: the request
    context stays open for it, and nothing holds the whole file."""
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
