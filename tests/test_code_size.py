"""House rules on size: small modules named for one concern, short functions.

A module over MODULE_LINES lines, or a function over FUNCTION_LINES lines whose
docstring does not say why it is long by nature (a table of declarations, a literal
document), fails here, so the code base cannot drift back into large files.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("platform", "metadata", "rule_engine", "plugins", "examples", "migrations")
MODULE_LINES = 400
FUNCTION_LINES = 60
REASON = "Long by nature:"
# A released migration is history: its DDL reads best as written and is never edited.
FUNCTION_RULE_EXEMPT = ("migrations/versions/",)


def product_modules() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", *PRODUCT], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if name.endswith(".py") and (ROOT / name).exists()]


def test_no_module_is_over_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in product_modules()
        if (count := len(path.read_text().splitlines())) > MODULE_LINES
    }
    assert long == {}


def test_long_functions_say_why() -> None:
    unexplained = []
    for path in product_modules():
        if str(path.relative_to(ROOT)).startswith(FUNCTION_RULE_EXEMPT):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > FUNCTION_LINES and REASON not in (ast.get_docstring(node) or ""):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert unexplained == []
