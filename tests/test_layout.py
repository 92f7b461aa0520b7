"""The source layout: one import package ``trellis`` mapped from the user's folders."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MAPPED = ("metadata", "rule_engine", "plugins", "ui_templates", "migrations", "examples")
BARE_IMPORT = re.compile(rf"^\s*(?:from|import)\s+({'|'.join(MAPPED)})\b", re.MULTILINE)


def python_files() -> list[Path]:
    skip = {".git", ".venv", "build", "dist", "instance", ".hypothesis"}
    return [path for path in ROOT.rglob("*.py") if not skip & set(path.relative_to(ROOT).parts)]


def test_platform_is_a_source_root_not_a_package() -> None:
    # A package named ``platform`` would shadow the standard library's module.
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_code_imports_mapped_folders_through_trellis() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in python_files()
        for match in BARE_IMPORT.finditer(path.read_text())
    ]
    assert offenders == []


def test_every_package_is_listed_in_setup_cfg() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    listed = set(parser["options"]["packages"].split())
    roots = {"trellis": ROOT / "platform" / "trellis"}
    roots.update({f"trellis.{folder}": ROOT / folder for folder in MAPPED})
    found = set()
    for name, folder in roots.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((name, *relative)))
    assert found - listed == set(), "add these packages to setup.cfg"


@pytest.mark.slow
def test_wheel_contains_templates_grammar_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("trellis_crm-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "trellis/ui_templates/templates/base.html" in names
    assert "trellis/ui_templates/static/trellis.css" in names
    assert "trellis/migrations/env.py" in names
    assert "trellis/migrations/versions/0001_platform.py" in names
    assert any(name.startswith("trellis/rule_engine/") and name.endswith(".lark") for name in names)
    assert not any(name.startswith("platform/") for name in names)
