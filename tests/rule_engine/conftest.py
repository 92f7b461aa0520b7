"""Fixtures for the formula engine tests."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine


@pytest.fixture(scope="session")
def formula_sql_engine(pg_engine: Engine) -> Engine:
    """The suite's PostgreSQL (a real server, or the embedded one when none answers)."""
    return pg_engine
