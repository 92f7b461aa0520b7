"""Trellis: a low-code CRM platform driven by metadata."""

from __future__ import annotations

from trellis.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]


def create_app(*args, **kwargs):
    """Build the Flask application; see :func:`trellis.runtime.app.create_app`."""
    from trellis.runtime.app import create_app as factory

    return factory(*args, **kwargs)
