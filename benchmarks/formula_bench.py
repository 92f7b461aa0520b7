"""Formula engine benchmark: compiled rule vs hand-written Python, and compile time.

Run: ``python benchmarks/formula_bench.py``. Prints measured numbers and the
ratio against a baseline measured in the same run; nothing is asserted.
"""
from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path


def _import_engine():
    try:
        from trellis.rule_engine import compile_formula
    except ImportError:  # not installed yet: map the source folder like setup.cfg does
        import importlib.util
        import types

        root = Path(__file__).resolve().parent.parent
        package = types.ModuleType("trellis")
        package.__path__ = [str(root / "platform" / "trellis")]
        sys.modules.setdefault("trellis", package)
        spec = importlib.util.spec_from_file_location(
            "trellis.rule_engine", root / "rule_engine" / "__init__.py",
            submodule_search_locations=[str(root / "rule_engine")])
        module = importlib.util.module_from_spec(spec)
        sys.modules["trellis.rule_engine"] = module
        spec.loader.exec_module(module)
        from trellis.rule_engine import compile_formula
    return compile_formula


FIELDS = {"Stage": "picklist", "Amount": "currency", "CloseDate": "date", "Name": "text",
          "Probability": "percent"}
RULE = 'AND(ISPICKVAL(Stage, "Closed Won"), Amount < 1000, NOT(ISBLANK(CloseDate)))'
COMPILE_RULE = ('IF(AND(ISPICKVAL(Stage, "Closed Won"), Amount * Probability > 500), '
                'LEFT(Name, 10) & " " & TEXT(CloseDate), "n/a")')


def hand_written(record: dict) -> bool:
    """The same validation rule written directly in Python."""
    amount = record.get("Amount")
    return (record.get("Stage") == "Closed Won" and amount is not None and amount < 1000
            and record.get("CloseDate") is not None)


def make_records(count: int) -> list[dict]:
    generator = random.Random(7)
    stages = ["Closed Won", "Prospecting", "Negotiation", None]
    records = []
    for _ in range(count):
        records.append({
            "Stage": generator.choice(stages),
            "Amount": Decimal(generator.randint(0, 2000)) if generator.random() > 0.1 else None,
            "CloseDate": dt.date(2024, 1, 1) if generator.random() > 0.2 else None,
        })
    return records


def best_of(function, repeat: int = 7) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    compile_formula = _import_engine()
    records = make_records(20_000)
    rule = compile_formula(RULE, FIELDS, expected_type="checkbox")
    evaluate = rule.evaluate
    assert [evaluate(record) for record in records] == [hand_written(record) for record in records]

    engine_time = best_of(lambda: [evaluate(record) for record in records])
    python_time = best_of(lambda: [hand_written(record) for record in records])
    per_engine = engine_time / len(records) * 1e9
    per_python = python_time / len(records) * 1e9
    print(f"(a) validation rule over {len(records)} records (best of 7)")
    print(f"    compiled formula : {per_engine:8.0f} ns/record")
    print(f"    hand-written     : {per_python:8.0f} ns/record")
    print(f"    ratio            : {engine_time / python_time:8.2f}x (target <= 2x)")

    compile_formula(COMPILE_RULE, FIELDS)  # warm the grammar cache
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        compile_formula(COMPILE_RULE, FIELDS)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95)]
    print(f"(b) parse+check+compile of a {len(COMPILE_RULE)}-character rule (2000 runs)")
    print(f"    median {statistics.median(samples):.3f} ms, p95 {p95:.3f} ms (target median < 1 ms)")


if __name__ == "__main__":
    main()
