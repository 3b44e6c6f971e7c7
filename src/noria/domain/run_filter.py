"""The run-search DSL, a superset of MLflow's ``search_runs`` filter and order_by syntax.

    filter     := any_of ;  any_of := all_of (OR all_of)* ;  all_of := primary (AND primary)*
    primary    := "(" any_of ")" | key operator
    key        := prefix "." (name | `quoted` | "quoted")   e.g. metrics.auc, tags.`a b`
    operator   := (= | != | <> | < | <= | > | >=) value | [NOT] (LIKE | ILIKE) string
                | [NOT] IN "(" value ("," value)* ")" | IS [NOT] NULL
    order item := key [ASC | DESC]

``parse_filter`` returns a tree of frozen nodes that a backend compiles; every node
keeps its 1-based position in the source text. Keywords ignore case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn, TypeAlias

from noria.domain.tracking import LifecycleStage, RunStatus
from noria.errors import InvalidArgument


class Entity(StrEnum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    NOT_LIKE = "NOT LIKE"
    NOT_ILIKE = "NOT ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


Scalar: TypeAlias = str | int | float
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """``<entity>.<key> <op> <value>``; ``value`` is a tuple for IN, None for IS [NOT] NULL."""

    entity: Entity
    key: str
    op: Op
    value: Value
    position: int = 1


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[FilterExpr, ...]
    position: int = 1


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[FilterExpr, ...]
    position: int = 1


FilterExpr: TypeAlias = Comparison | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class OrderKey:
    entity: Entity
    key: str
    descending: bool = False
    position: int = 1


ATTRIBUTES = (
    *("run_id", "run_name", "status", "user_id", "start_time", "end_time", "duration"),
    *("experiment_id", "lifecycle_stage", "parent_id"),
)
MAX_NESTING = 50  # parentheses; deeper filters would exhaust Python's recursion
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time", "duration"})
_ALIASES = {
    "id": "run_id",
    "name": "run_name",
    "user": "user_id",
    "created": "start_time",
    "parent_run_id": "parent_id",
}
_PREFIXES = {
    **dict.fromkeys(("metrics", "metric"), Entity.METRIC),
    **dict.fromkeys(("params", "param", "parameter", "parameters"), Entity.PARAM),
    **dict.fromkeys(("tags", "tag"), Entity.TAG),
    **dict.fromkeys(("attributes", "attribute", "attr", "run"), Entity.ATTRIBUTE),
}
_NUMBER_OPS = (Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE)
_TEXT_OPS = (Op.EQ, Op.NE, Op.LIKE, Op.ILIKE, Op.NOT_LIKE, Op.NOT_ILIKE, Op.IN, Op.NOT_IN)
_NULL_OPS = (Op.IS_NULL, Op.IS_NOT_NULL)
_ENUM_OPS = (Op.EQ, Op.NE, Op.IN, Op.NOT_IN)
_RULES = {  # by entity, or by name for attributes; others take text
    "metrics": ((*_NUMBER_OPS, *_NULL_OPS), "metric"),
    "params": ((*_TEXT_OPS, *_NULL_OPS), "string"),
    "tags": ((*_TEXT_OPS, *_NULL_OPS), "string"),
    "end_time": ((*_NUMBER_OPS, *_NULL_OPS), "number"),
    "parent_id": ((*_TEXT_OPS, *_NULL_OPS), "string"),
    "start_time": (_NUMBER_OPS, "number"),
    "duration": (_NUMBER_OPS, "number"),
    "status": (_ENUM_OPS, "run status"),
    "lifecycle_stage": (_ENUM_OPS, "lifecycle stage"),
}
_ENUMS = {
    "run status": (tuple(RunStatus), str.upper),
    "lifecycle stage": (tuple(LifecycleStage), str.lower),
}
_SYMBOLS = {"<=": Op.LE, ">=": Op.GE, "!=": Op.NE, "<>": Op.NE, "=": Op.EQ, "<": Op.LT, ">": Op.GT}
_ANY_OPERATOR = "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)"
_A_KEY = "metrics., params., tags. or attributes. and a name"

# Possessive quantifiers (*+) make an unclosed quote fail here instead of backtracking.
_TOKENS = re.compile(
    r"""(?P<ident>(?P<prefix>[A-Za-z_][A-Za-z0-9_]*)\.
        (?:`(?P<backticked>(?:[^`]|``)*+)`|"(?P<quoted>(?:[^"]|"")*+)"|(?P<bare>[A-Za-z0-9_.\-/:]+)))
    |(?P<string>'(?:[^']|'')*+'|"(?:[^"]|"")*+")
    |(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<symbol><=|>=|!=|<>|=|<|>)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[(),])""",
    re.VERBOSE,
)
_NON_SPACE = re.compile(r"\S")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ident, word, string, number, symbol, one of "(),", or end
    text: str  # as written, for messages
    position: int
    value: str | int | float = ""  # the unquoted string, the number, an ident's name
    prefix: str = ""  # an ident's prefix as written


class _Source:
    """The text being parsed and how messages name it."""

    def __init__(self, text: str, label: str, end: str) -> None:
        self.text, self.label, self.end = text, label, end

    def fail(self, position: int, expected: str, got: str) -> NoReturn:
        raise InvalidArgument(
            f"Invalid {self.label} at position {position}: expected {expected}, got {got}."
        )

    def describe(self, token: _Token) -> str:
        if token.kind == "end":
            return self.end
        text = token.text if len(token.text) <= 40 else token.text[:40] + "…"
        text = text.replace("\n", "\\n").replace("\r", "\\r")
        return text if token.kind in ("string", "number") else f"'{text}'"


def _token(match: re.Match[str]) -> _Token:
    kind, raw, position = str(match.lastgroup), match.group(), match.start() + 1
    if kind == "ident":
        if match["bare"] is not None:
            name = match["bare"]
        elif match["backticked"] is not None:
            name = match["backticked"].replace("``", "`")
        else:
            name = match["quoted"].replace('""', '"')
        return _Token(kind, raw, position, name, match["prefix"])
    if kind == "string":
        return _Token(kind, raw, position, raw[1:-1].replace(raw[0] * 2, raw[0]))
    if kind == "number":
        return _Token(kind, raw, position, int(raw) if raw.lstrip("+-").isdigit() else float(raw))
    return _Token(raw if kind == "punct" else kind, raw, position)


def _unreadable(source: _Source, start: int, word: re.Match[str] | None) -> NoReturn:
    text = source.text
    if word is not None:  # a prefix and a dot, but no name after them
        after = word.end() + 1
        if text[after : after + 1] in ("`", '"'):
            source.fail(
                after + 1, f"a closing {text[after]} for the name that starts here", source.end
            )
        got = f"'{text[after]}'" if after < len(text) else source.end
        source.fail(after + 1, f"a name after '{text[start:after]}'", got)
    if text[start] in "'\"":
        source.fail(
            start + 1, f"a closing {text[start]} for the string that starts here", source.end
        )
    source.fail(start + 1, "a key, a value, an operator or a parenthesis", f"'{text[start]}'")


def _tokenize(source: _Source) -> list[_Token]:
    text, tokens, end = source.text, list[_Token](), 0
    while (start := _NON_SPACE.search(text, end)) is not None:
        i = start.start()
        match = _TOKENS.match(text, i)
        if match is None or (match.lastgroup == "word" and text.startswith(".", match.end())):
            _unreadable(source, i, match)
        token = _token(match)
        if token.kind == "ident" and not token.value:
            source.fail(i + 1, f"a non-empty name after '{token.prefix}.'", f"'{token.text}'")
        tokens.append(token)
        end = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def take_word(self, *words: str) -> _Token | None:
        token = self.peek()
        if token.kind == "word" and token.text.upper() in words:
            return self.take()
        return None

    def fail(self, token: _Token, expected: str) -> NoReturn:
        self.source.fail(token.position, expected, self.source.describe(token))

    def expect_end(self, expected: str) -> None:
        token = self.peek()
        if token.kind != "end":
            self.fail(token, expected)

    def any_of(self) -> FilterExpr:
        parts = [self.all_of()]
        while self.take_word("OR"):
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts), parts[0].position)

    def all_of(self) -> FilterExpr:
        parts = [self.primary()]
        while self.take_word("AND"):
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts), parts[0].position)

    def primary(self) -> FilterExpr:
        opening = self.peek()
        if opening.kind != "(":
            return self.comparison()
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(opening, f"at most {MAX_NESTING} nested parentheses")
        self.take()
        inner = self.any_of()
        self.depth -= 1
        if self.peek().kind != ")":
            self.fail(
                self.peek(), f"AND, OR or ')' to close the '(' at position {opening.position}"
            )
        self.take()
        return inner

    def key(self) -> tuple[Entity, str, _Token]:
        token = self.take()
        if token.kind == "ident":
            entity = _PREFIXES.get(token.prefix.lower())
            if entity is None:
                self.fail(token, "metrics., params., tags. or attributes. before the name")
            name = str(token.value)
        elif token.kind == "word" and token.text.lower() in (*ATTRIBUTES, *_ALIASES):
            entity, name = Entity.ATTRIBUTE, token.text  # MLflow reads a bare name as attribute
        else:
            self.fail(token, _A_KEY)
        if entity is Entity.ATTRIBUTE:
            name = _ALIASES.get(name.lower(), name.lower())
            if name not in ATTRIBUTES:
                self.fail(token, f"an attribute ({', '.join(ATTRIBUTES)})")
        return entity, name, token

    def operator(self, key: _Token) -> tuple[Op, _Token]:
        token = self.take()
        if token.kind == "symbol":
            return _SYMBOLS[token.text], token
        word = token.text.upper() if token.kind == "word" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return Op(word), token
        if word == "NOT":
            following = self.take_word("LIKE", "ILIKE", "IN")
            if following is None:
                self.fail(self.peek(), "LIKE, ILIKE or IN after NOT")
            return Op(f"NOT {following.text.upper()}"), token
        if word == "IS":
            negated = self.take_word("NOT") is not None
            if self.take_word("NULL") is None:
                self.fail(self.peek(), "NULL after IS NOT" if negated else "NULL or NOT NULL")
            return (Op.IS_NOT_NULL if negated else Op.IS_NULL), token
        self.fail(token, f"{_ANY_OPERATOR} after '{key.text}'")

    def comparison(self) -> Comparison:
        entity, name, key = self.key()
        op, op_token = self.operator(key)
        rule = name if entity is Entity.ATTRIBUTE else entity.value
        allowed, kind = _RULES.get(rule, (_TEXT_OPS, "string"))
        if op not in allowed:
            listed = ", ".join(allowed)
            self.fail(op_token, f"an operator that applies to '{key.text}' ({listed})")
        if op in _NULL_OPS:
            return Comparison(entity, name, op, None, key.position)
        if op not in (Op.IN, Op.NOT_IN):
            return Comparison(entity, name, op, self.value(kind, key), key.position)
        return Comparison(entity, name, op, self.value_list(op, kind, key), key.position)

    def value_list(self, op: Op, kind: str, key: _Token) -> tuple[Scalar, ...]:
        if (opening := self.take()).kind != "(":
            self.fail(opening, f"'(' to open the list after {op}")
        if self.peek().kind == ")":
            self.fail(self.peek(), f"at least one value in the {op} list")
        values = [self.value(kind, key)]
        while self.peek().kind == ",":
            self.take()
            values.append(self.value(kind, key))
        if (closing := self.take()).kind != ")":
            self.fail(closing, "',' or ')' to close the list")
        return tuple(values)

    def value(self, kind: str, key: _Token) -> Scalar:
        token = self.take()
        if kind in ("number", "metric"):
            if token.kind != "number":
                hint = " (remove the quotes)" if token.kind == "string" else ""
                self.fail(token, f"a number for '{key.text}'{hint}")
            return float(token.value) if kind == "metric" else token.value
        if token.kind != "string":
            hint = f" (write '{token.text}')" if token.kind == "number" else ""
            self.fail(token, f"a quoted string for '{key.text}'{hint}")
        text = str(token.value)
        if kind in _ENUMS:
            values, normalize = _ENUMS[kind]
            if normalize(text) not in values:
                self.fail(token, f"a {kind} ({', '.join(values)})")
            return normalize(text)
        return text


def parse_filter(text: str) -> FilterExpr | None:
    """The filter's syntax tree, or None when ``text`` is empty or blank."""
    if not text or text.isspace():
        return None
    parser = _Parser(_Source(text, "filter", "end of filter"))
    expression = parser.any_of()
    dangling = parser.peek().kind == ")"
    parser.expect_end("AND, OR or the end (this ')' closes nothing)" if dangling else "AND or OR")
    return expression


def parse_order_by(items: Sequence[str]) -> list[OrderKey]:
    """``["metrics.auc DESC", "params.lr"]`` → order keys; ASC unless DESC is given."""
    if isinstance(items, str):
        raise InvalidArgument(
            f"order_by must be a list of strings such as ['metrics.auc DESC'], not the string "
            f"{items!r}."
        )
    keys = []
    for number, item in enumerate(items, start=1):
        source = _Source(item, f"order_by item {number} ({item!r})", "end of the item")
        parser = _Parser(source)
        entity, name, key = parser.key()
        direction = parser.take_word("ASC", "DESC")
        parser.expect_end(f"ASC, DESC or the end after '{key.text}'")
        descending = direction is not None and direction.text.upper() == "DESC"
        keys.append(OrderKey(entity, name, descending, key.position))
    return keys
