"""Settings are declared once and read once from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from trellis.config import SETTINGS, load_config


def test_environment_overrides_and_defaults(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "TRELLIS_DATABASE_URL": "postgresql+psycopg://x@h/db",
            "TRELLIS_DB_POOL_SIZE": "3",
            "TRELLIS_SECURE_COOKIES": "false",
            "TRELLIS_INSTANCE_PATH": str(tmp_path),
        }
    )
    assert config.database_url == "postgresql+psycopg://x@h/db"
    assert config.db_pool_size == 3
    assert config.secure_cookies is False
    assert config.session_hours == 12
    assert config.redis_url is None


def test_secret_key_is_generated_once_per_instance(tmp_path: Path) -> None:
    first = load_config(environ={"TRELLIS_INSTANCE_PATH": str(tmp_path)})
    second = load_config(environ={"TRELLIS_INSTANCE_PATH": str(tmp_path)})
    assert len(first.secret_key) > 40
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_settings_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="databse_url"):
        load_config({"databse_url": "x"}, environ={})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for setting in SETTINGS:
        assert setting.help and setting.env_var in readme, setting.env_var
