"""The plugin-facing function registry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trellis.rule_engine import (
    FormulaSqlError,
    FormulaTypeError,
    builtin_registry,
    compile_formula,
    new_registry,
)


def test_plugin_function_with_decorator():
    registry = new_registry()

    @registry.function("DISCOUNTED", args=["number", "percent?"], returns="currency")
    def discounted(amount, rate=None):
        return amount * (1 - (rate or 0))

    formula = compile_formula(
        "discounted(Amount, Rate)", {"Amount": "currency", "Rate": "percent"}, functions=registry
    )
    assert formula.return_type == "currency"
    assert formula.evaluate({"Amount": 200, "Rate": 25}) == Decimal("150.00")
    assert formula.evaluate({"Amount": None, "Rate": 25}) is None  # blank propagates
    with pytest.raises(FormulaTypeError, match="argument 1 must be number"):
        compile_formula('DISCOUNTED("x")', {}, functions=registry)
    with pytest.raises(FormulaTypeError, match="expected 1 to 2"):
        compile_formula("DISCOUNTED()", {}, functions=registry)
    with pytest.raises(FormulaTypeError, match="unknown function DISCOUNTED"):
        compile_formula("DISCOUNTED(1)", {})  # the shared built-in registry is untouched


def test_plugin_results_are_normalised_and_variadic_arguments_work():
    registry = new_registry()
    registry.register("TOTAL", lambda *values: sum(values), args=["*number"], returns="number")
    assert compile_formula("TOTAL(1, 2.5, 3)", {}, functions=registry).evaluate({}) == Decimal(
        "6.5"
    )
    registry.register("SHOUT", lambda text: text.upper() + "!", args=["text"], returns="text")
    assert compile_formula('SHOUT("hi")', {}, functions=registry).evaluate({}) == "HI!"


def test_plugin_function_with_environment_and_sql():
    from sqlalchemy import func

    registry = new_registry()

    @registry.function(
        "USERNAME",
        args=[],
        returns="text",
        needs_environment=True,
        sql=lambda compiler, node, arguments: func.current_user(),
    )
    def username(environment):
        return environment.globals.get("$User.Username")

    formula = compile_formula("USERNAME()", {}, functions=registry)
    assert formula.evaluate({}, globals={"$User.Username": "ada"}) == "ada"
    assert formula.to_sql(lambda path: None) is not None


def test_registry_guards():
    with pytest.raises(RuntimeError, match="frozen"):
        builtin_registry().register("X", lambda: 1, args=[], returns="number")
    registry = new_registry()
    with pytest.raises(ValueError, match="already registered"):
        registry.register("LEN", lambda text: 0, args=["text"], returns="number")
    registry.register(
        "LEN", lambda text: Decimal(42), args=["text"], returns="number", replace_existing=True
    )
    assert compile_formula('LEN("a")', {}, functions=registry).evaluate({}) == 42
    with pytest.raises(FormulaSqlError, match="LEN cannot be used in SQL"):
        compile_formula('LEN("a")', {}, functions=registry).to_sql(lambda path: None)
    with pytest.raises(ValueError, match="unknown parameter kind"):
        registry.register("BAD", lambda x: x, args=["banana"])
    with pytest.raises(ValueError, match="invalid function name"):
        registry.register("1BAD", lambda: 1, args=[])
    assert "IF" in registry and len(registry) >= 69 and "ISPICKVAL" in list(registry)
