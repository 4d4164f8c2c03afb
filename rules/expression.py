"""A small, safe condition language for rules: parsed by hand, type-checked, compiled to closures.

Grammar (lowest precedence first; the same precedence and associativity as Python)::

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)*     # chains like Python: a < b < c
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | atom
    atom       := NUMBER | "true" | "false" | METRIC | "(" expression ")"

Values are numbers and booleans; a metric that was never reported is *unknown* (None) and unknown
propagates with Kleene's three-valued logic: ``false and unknown`` is false, ``true or unknown`` is true,
everything else that touches an unknown is unknown. Division by zero is unknown too. Nothing is ever
passed to ``eval``; the only names are metrics.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.domain import MetricValue
from core.errors import ConfigError

Value = float | bool
Values = Mapping[str, MetricValue]
Evaluator = Callable[[Values], Value | None]


class ValueType(enum.Enum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    ANY = "any"  # a metric whose type the caller did not declare

    def fits(self, wanted: ValueType) -> bool:
        return ValueType.ANY in (self, wanted) or self is wanted


# --- syntax tree -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Literal:
    value: Value
    column: int


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    column: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+" or "not"
    operand: Node
    column: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+", "-", "*", "/"
    left: Node
    right: Node
    column: int


@dataclass(frozen=True, slots=True)
class Compare:
    operands: tuple[Node, ...]
    ops: tuple[str, ...]  # len(ops) == len(operands) - 1
    column: int


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "and" or "or"
    operands: tuple[Node, ...]
    column: int


Node = Literal | Metric | Unary | Binary | Compare | Logical


# --- tokens ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|[<>+\-*/()])
""", re.VERBOSE)
_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
_END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "number", "name", "keyword", "op" or "end"
    text: str
    column: int  # 1-based


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; raises ConfigError naming the column of a stray character."""
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            hint = " (did you mean '=='?)" if source[position] == "=" else ""
            raise _error(source, position + 1, f"unexpected character {source[position]!r}{hint}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "space":
            if kind == "name" and text in _KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, position + 1))
        position = match.end()
    tokens.append(Token("end", _END, len(source) + 1))
    return tokens


def _error(source: str, column: int, what: str) -> ConfigError:
    return ConfigError(f"{what} at column {column} in {source!r}")


# --- parser ----------------------------------------------------------------------------------------

class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def accept(self, *texts: str) -> Token | None:
        token = self.token
        if token.kind in ("op", "keyword") and token.text in texts:
            self.index += 1
            return token
        return None

    def fail(self, what: str) -> ConfigError:
        shown = self.token.text if self.token.kind == "end" else repr(self.token.text)
        return _error(self.source, self.token.column, f"{what}, found {shown}")

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise _error(self.source, 1, "empty expression")
        node = self.logical("or")
        if self.token.kind != "end":
            raise self.fail("expected an operator or the end")
        return node

    def logical(self, op: str) -> Node:
        below: Callable[[], Node] = (lambda: self.logical("and")) if op == "or" else self.negation
        first = below()
        operands = [first]
        while self.accept(op):
            operands.append(below())
        return first if len(operands) == 1 else Logical(op, tuple(operands), _column(first))

    def negation(self) -> Node:
        token = self.accept("not")
        if token is not None:
            return Unary("not", self.negation(), token.column)
        return self.comparison()

    def comparison(self) -> Node:
        first = self.sum()
        operands, ops = [first], []
        while (token := self.accept(*_COMPARISONS)) is not None:
            ops.append(token.text)
            operands.append(self.sum())
        return first if not ops else Compare(tuple(operands), tuple(ops), _column(first))

    def sum(self) -> Node:
        node = self.product()
        while (token := self.accept("+", "-")) is not None:
            node = Binary(token.text, node, self.product(), token.column)
        return node

    def product(self) -> Node:
        node = self.unary()
        while (token := self.accept("*", "/")) is not None:
            node = Binary(token.text, node, self.unary(), token.column)
        return node

    def unary(self) -> Node:
        token = self.accept("-", "+")
        if token is not None:
            return Unary(token.text, self.unary(), token.column)
        return self.atom()

    def atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.index += 1
            return Literal(float(token.text), token.column)
        if token.kind == "name":
            self.index += 1
            return Metric(token.text, token.column)
        if self.accept("true", "false"):
            return Literal(token.text == "true", token.column)
        if self.accept("("):
            node = self.logical("or")
            if self.accept(")") is None:
                raise self.fail("expected ')'")
            return node
        raise self.fail("expected a number, a metric, true, false or '('")


def _column(node: Node) -> int:
    return node.column


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raises ConfigError with the column of the first error."""
    return _Parser(source).parse()


# --- types -----------------------------------------------------------------------------------------

def check_types(node: Node, source: str, metric_types: Mapping[str, ValueType] | None) -> ValueType:
    """The type of ``node``; unknown metrics and ill-typed operands raise ConfigError with the column.

    With ``metric_types`` None every metric is accepted and typed ANY.
    """
    def need(child: Node, wanted: ValueType, what: str) -> None:
        found = check_types(child, source, metric_types)
        if not found.fits(wanted):
            raise _error(source, child.column, f"{what} needs a {wanted.value}, got a {found.value}")

    match node:
        case Literal(value=value):
            return ValueType.BOOLEAN if isinstance(value, bool) else ValueType.NUMBER
        case Metric(name=name):
            if metric_types is None:
                return ValueType.ANY
            if name not in metric_types:
                raise _error(source, node.column, f"unknown metric {name!r}")
            return metric_types[name]
        case Unary(op="not", operand=operand):
            need(operand, ValueType.BOOLEAN, "'not'")
            return ValueType.BOOLEAN
        case Unary(op=op, operand=operand):
            need(operand, ValueType.NUMBER, f"unary '{op}'")
            return ValueType.NUMBER
        case Binary(op=op, left=left, right=right):
            need(left, ValueType.NUMBER, f"'{op}'")
            need(right, ValueType.NUMBER, f"'{op}'")
            return ValueType.NUMBER
        case Logical(op=op, operands=operands):
            for child in operands:
                need(child, ValueType.BOOLEAN, f"'{op}'")
            return ValueType.BOOLEAN
        case Compare(operands=operands, ops=ops):
            types = [check_types(child, source, metric_types) for child in operands]
            for op, a, b, child in zip(ops, types, types[1:], operands[1:], strict=False):
                ordered = op not in ("==", "!=")
                if ordered and not (a.fits(ValueType.NUMBER) and b.fits(ValueType.NUMBER)):
                    raise _error(source, child.column, f"'{op}' compares numbers only")
                if not a.fits(b):
                    raise _error(source, child.column, f"'{op}' compares a {a.value} with a {b.value}")
            return ValueType.BOOLEAN
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


# --- compilation to closures -----------------------------------------------------------------------

_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}
_ORDER: dict[str, Callable[[Value, Value], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def compile_node(node: Node) -> Evaluator:
    """A closure evaluating ``node`` against the latest metric values; None means unknown."""
    match node:
        case Literal(value=value):
            return lambda _values: value
        case Metric(name=name):
            return lambda values: values.get(name)
        case Unary():
            return _compile_unary(node.op, compile_node(node.operand))
        case Binary():
            return _compile_binary(node.op, compile_node(node.left), compile_node(node.right))
        case Logical():
            return _compile_logical(node.op == "and", tuple(compile_node(c) for c in node.operands))
        case Compare():
            return _compile_compare(tuple(_ORDER[op] for op in node.ops),
                                    tuple(compile_node(c) for c in node.operands))
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def _compile_unary(op: str, operand: Evaluator) -> Evaluator:
    def evaluate(values: Values) -> Value | None:
        value = operand(values)
        if value is None:
            return None
        if op == "not":
            return not value
        return -value if op == "-" else +value

    return evaluate


def _compile_binary(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    apply = _ARITHMETIC[op]

    def evaluate(values: Values) -> Value | None:
        a, b = left(values), right(values)
        if a is None or b is None:
            return None
        try:
            return apply(a, b)
        except ZeroDivisionError:
            return None

    return evaluate


def _compile_logical(is_and: bool, operands: tuple[Evaluator, ...]) -> Evaluator:
    # Kleene logic: the deciding value (false for 'and', true for 'or') wins over unknown.
    def evaluate(values: Values) -> Value | None:
        unknown = False
        for operand in operands:
            value = operand(values)
            if value is None:
                unknown = True
            elif bool(value) is not is_and:
                return not is_and
        return None if unknown else is_and

    return evaluate


def _compile_compare(ops: tuple[Callable[[Value, Value], bool], ...],
                     operands: tuple[Evaluator, ...]) -> Evaluator:
    if len(ops) == 1:
        apply, left, right = ops[0], operands[0], operands[1]

        def evaluate_one(values: Values) -> Value | None:
            a, b = left(values), right(values)
            return None if a is None or b is None else apply(a, b)

        return evaluate_one

    def evaluate_chain(values: Values) -> Value | None:
        results = [operand(values) for operand in operands]
        unknown = False
        for apply, a, b in zip(ops, results, results[1:], strict=False):
            if a is None or b is None:
                unknown = True
            elif not apply(a, b):
                return False
        return None if unknown else True

    return evaluate_chain


# --- the public value ------------------------------------------------------------------------------

def _metric_names(node: Node) -> frozenset[str]:
    match node:
        case Metric(name=name):
            return frozenset((name,))
        case Unary(operand=operand):
            return _metric_names(operand)
        case Binary(left=left, right=right):
            return _metric_names(left) | _metric_names(right)
        case Logical(operands=operands) | Compare(operands=operands):
            return frozenset().union(*(_metric_names(child) for child in operands))
    return frozenset()


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression; equal when the source text is equal."""

    source: str
    node: Node = field(compare=False, repr=False)
    type: ValueType = field(compare=False)
    metrics: frozenset[str] = field(compare=False)
    evaluate: Evaluator = field(compare=False, repr=False)

    def truth(self, values: Values) -> bool | None:
        """The expression as a condition: True, False, or None while it is unknown."""
        value = self.evaluate(values)
        return None if value is None else bool(value)


def compile_expression(source: str, metric_types: Mapping[str, ValueType] | None = None,
                       want: ValueType = ValueType.ANY) -> Expression:
    """Parse, type-check and compile ``source``; ConfigError names the column of the first problem.

    ``metric_types`` lists the metrics the expression may read (None accepts any name);
    ``want`` is the type the whole expression must have (BOOLEAN for a rule condition).
    """
    node = parse(source)
    found = check_types(node, source, metric_types)
    if not found.fits(want):
        raise _error(source, 1, f"the expression must be a {want.value}, it is a {found.value}")
    return Expression(source, node, found, _metric_names(node), compile_node(node))
