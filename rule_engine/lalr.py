"""A lean runner for the LALR tables that Lark builds from ``grammar.lark``.

Why it exists: Lark's own driver is general (any grammar, interactive parsing,
tree-building wrappers). Per token it looks actions up by ``Rule`` objects,
whose hashing and equality are Python-level, and builds lexer state objects;
for a 100-character formula that was about 80 % of parse + check + compile.
This runner uses the very same artefacts Lark produced: the terminals (in
Lark's match order), the parse table and the reduction callbacks (our
``AstBuilder`` wrapped by Lark), resolved once into plain dicts, so that the
language is still defined by ``grammar.lark`` alone.

It only handles the success path. At the first lexing or parsing error it
raises :class:`NoParse`, and the caller parses again with Lark itself, whose
exceptions carry what the friendly syntax errors need. Both walk the same
tables in the same order, so the callbacks run identically up to that point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from lark import Lark, Token
from lark.lexer import BasicLexer


class NoParse(Exception):
    """The input is not valid: let Lark parse it again to describe the problem."""


class _Reduce(NamedTuple):
    """Reduce by a rule of ``size`` symbols to ``origin``; ``callback`` builds the value
    (``None``: the rule just passes its single child through, as ``?rule: child`` does)."""

    size: int
    callback: Callable[[list], Any] | None
    origin: str


def _passes_child_through(rule: Any) -> bool:
    """Whether Lark's callback for ``rule`` returns its only child unchanged.

    That is an inlined ``?rule`` (``expand1``, no alias) with exactly one
    non-terminal child that is itself kept (not an inlined ``_rule``) and no
    ``[optional]`` placeholders: Lark wraps it in ``ExpandSingleChild``, which
    returns ``children[0]`` for one child. These unit reductions are most of the
    reductions of an expression grammar (``atom`` -> ``power`` -> ... ->
    ``expression``), so skipping the call matters.
    """
    options = rule.options
    return bool(
        options.expand1
        and not rule.alias
        and not options.empty_indices
        and len(rule.expansion) == 1
        and not rule.expansion[0].is_term
        and not rule.expansion[0].name.startswith("_")
    )


class LalrRunner:
    """Parses text with a Lark LALR parser's tables and callbacks (basic lexer only)."""

    def __init__(self, lark: Lark) -> None:
        if lark.options.parser != "lalr" or lark.options.lexer != "basic":
            raise ValueError(
                "LalrRunner needs a Lark parser built with parser='lalr', lexer='basic'"
            )
        interactive = lark.parse_interactive("")
        conf = interactive.parser_state.parse_conf
        lexer = interactive.lexer_thread.lexer
        if not isinstance(lexer, BasicLexer):  # what lexer="basic" builds; narrows the type
            raise ValueError("LalrRunner needs Lark's basic lexer")
        scanner = lexer.scanner
        # One alternation of named groups in Lark's own terminal order (what Lark's
        # scanner compiles too, when there are fewer than 100 terminals).
        self._pattern = lexer.re.compile(
            "|".join(
                f"(?P<{terminal.name}>{terminal.pattern.to_regexp()})"
                for terminal in scanner.terminals
            ),
            lexer.g_regex_flags,
        )
        self._ignored = frozenset(lexer.ignore_types)
        self._multiline = frozenset(lexer.newline_types)
        self._lexer_callbacks = dict(lexer.callback)
        self._shift_callbacks = {
            name: callback for name, callback in conf.callbacks.items() if isinstance(name, str)
        }
        self._start = conf.start_state
        self._end = conf.end_state
        self._actions = {
            state: {
                str(symbol): self._action(kind, argument, conf.callbacks)
                for symbol, (kind, argument) in row.items()
            }
            for state, row in conf.states.items()
        }
        # (state below the top, top state, lookahead) -> top state after the run of
        # unit reductions that lookahead triggers; filled as inputs are parsed.
        self._unit_runs: dict[tuple[int, int, str], int] = {}

    @staticmethod
    def _action(kind: Any, argument: Any, callbacks: dict) -> int | _Reduce:
        """A shift (or goto) is the target state; a reduction is a :class:`_Reduce`."""
        if kind.name == "Shift":
            return argument
        callback = None if _passes_child_through(argument) else callbacks[argument]
        return _Reduce(len(argument.expansion), callback, str(argument.origin.name))

    def parse(self, text: str) -> Any:
        """What the callbacks build for ``text``; :class:`NoParse` at the first error."""
        states = [self._start]
        values: list[Any] = []
        token = None
        for token in self._tokens(text):
            self._feed(token, states, values)
        if token is None:
            end = Token("$END", "", 0, 1, 1)
        else:
            end = Token(
                "$END",
                "",
                token.start_pos,
                token.line,
                token.column,
                token.end_line,
                token.end_column,
                token.end_pos,
            )
        return self._feed(end, states, values, at_end=True)

    def _tokens(self, text: str) -> Iterator[Token]:
        """Lark's basic lexer: first matching terminal, positions 1-based, ignored
        terminals (space, comments) skipped."""
        match = self._pattern.match
        ignored, multiline, callbacks = self._ignored, self._multiline, self._lexer_callbacks
        position, line, line_start, length = 0, 1, 0, len(text)
        while position < length:
            found = match(text, position)
            if found is None:
                raise NoParse()
            kind, value = found.lastgroup, found.group()
            end = found.end()
            column = position - line_start + 1
            end_line = line
            if kind in multiline:
                newlines = value.count("\n")
                if newlines:
                    end_line += newlines
                    line_start = position + value.rindex("\n") + 1
            if kind not in ignored or kind in callbacks:
                token = Token(
                    kind, value, position, line, column, end_line, end - line_start + 1, end
                )
                if kind in callbacks:
                    token = callbacks[kind](token)
                if kind not in ignored:
                    yield token
            position, line = end, end_line

    def _feed(
        self, token: Token, states: list[int], values: list[Any], at_end: bool = False
    ) -> Any:
        """Reduce as the table says for the lookahead ``token``, then shift it; with
        the end marker (``at_end``), reduce until the start symbol is accepted and
        return its value."""
        actions, end_state = self._actions, self._end
        kind = token.type
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise NoParse()
            if action.__class__ is int:
                if at_end:
                    raise NoParse()
                states.append(action)
                callback = self._shift_callbacks.get(kind)
                values.append(token if callback is None else callback(token))
                return None
            # A reduction: shifts returned above (``__class__ is`` is the cheap test
            # here, and mypy narrows only its positive branch).
            size, callback, origin = action  # type: ignore[misc]
            if callback is None:
                states[-1] = self._after_unit_reductions(states[-2], states[-1], kind)
            else:
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                values.append(callback(children))
                # The action on a rule's origin is its goto, a state.
                states.append(actions[states[-1]][origin])  # type: ignore[arg-type]
            if at_end and states[-1] == end_state:
                return values[-1]

    def _after_unit_reductions(self, below: int, top: int, kind: str) -> int:
        """The top state once the unit reductions (``?power: atom`` ...) that
        lookahead ``kind`` triggers in state ``top`` are done.

        Unit rules are most reductions of an expression grammar (an atom before
        ``,`` climbs ``power``, ``unary`` ... ``expression``: nine of them). Each
        keeps the value and replaces only the top state, with a goto from the
        unchanged state below it, so the whole run depends on these three
        arguments alone and is remembered.
        """
        key = (below, top, kind)
        found = self._unit_runs.get(key)
        if found is None:
            found, actions = top, self._actions
            action: int | _Reduce | None = actions[top][kind]
            while action.__class__ is _Reduce and action.callback is None:
                # The action on a rule's origin is its goto, a state.
                found = actions[below][action.origin]  # type: ignore[assignment]
                action = actions[found].get(kind)
            self._unit_runs[key] = found
        return found
