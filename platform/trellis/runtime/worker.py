"""Entry point for ``celery -A trellis.runtime.worker worker``.

``trellis worker`` does the same."""

from __future__ import annotations

from trellis import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
