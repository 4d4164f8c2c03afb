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
    atom       := NUMBER | STRING | "true" | "false" | METRIC | call | "(" expression ")"
    call       := FUNCTION "(" [argument ("," argument)*] ")"    # argument: expression or DURATION

Window functions (see rules/windows.py; the engine keeps bounded windows per asset and metric)::

    avg(m, 10m)  min(m, 10m)  max(m, 10m)   over the samples of the last 10 minutes
    delta(m, 1h)                            newest minus oldest sample in the window (2 samples needed)
    rate(m, 5m)                             delta / the time between those samples, per second
    count(condition, 10m)                   readings in the window on which the condition held
    stale(5m)  stale(m, 5m)  stale()        no reading (of m) for longer than 5m / than STALE_REPORTS
                                            report intervals of the asset; judged again at each watermark
    coalesce(a, b)                          a, or b while a is unknown

Strings ('rigid') exist for asset attributes in a rule's ``where`` and compare with == and != only.

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
from typing import Any

from core.domain import MetricValue
from core.errors import ConfigError
from rules.windows import SeriesNeed, stale_function, window_function

Value = float | bool
Values = Mapping[str, MetricValue]
Evaluator = Callable[[Values], Value | str | None]
WINDOW_FUNCTIONS = frozenset({"avg", "min", "max", "delta", "rate"})
FUNCTIONS = WINDOW_FUNCTIONS | {"count", "stale", "coalesce"}


class ValueType(enum.Enum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    STRING = "string"
    DURATION = "duration"
    ANY = "any"  # a metric whose type the caller did not declare

    def fits(self, wanted: ValueType) -> bool:
        return ValueType.ANY in (self, wanted) or self is wanted


# --- syntax tree -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Literal:
    value: Value | str
    column: int


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: float
    column: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
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


Node = Literal | Duration | Call | Metric | Unary | Binary | Compare | Logical


# --- tokens ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<duration>\d+(?:\.\d+)?(?:ms|s|m|h|d)(?![A-Za-z0-9_]))
  | (?P<string>'[^'\n]*'|"[^"\n]*")
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|[<>+\-*/(),])
""", re.VERBOSE)
_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
_END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "number", "duration", "string", "name", "keyword", "op" or "end"
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
        if token.kind == "string":
            self.index += 1
            return Literal(token.text[1:-1], token.column)
        if token.kind == "duration":
            self.index += 1
            return Duration(_duration_s(token.text), token.column)
        if token.kind == "name":
            self.index += 1
            if self.accept("("):
                return self.call(token)
            return Metric(token.text, token.column)
        if self.accept("true", "false"):
            return Literal(token.text == "true", token.column)
        if self.accept("("):
            node = self.logical("or")
            if self.accept(")") is None:
                raise self.fail("expected ')'")
            return node
        raise self.fail("expected a number, a metric, true, false or '('")


    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise _error(self.source, name.column,
                         f"unknown function {name.text!r} (functions: {', '.join(sorted(FUNCTIONS))})")
        args: list[Node] = []
        if self.accept(")") is None:
            args.append(self.logical("or"))
            while self.accept(","):
                args.append(self.logical("or"))
            if self.accept(")") is None:
                raise self.fail("expected ',' or ')'")
        return Call(name.text, tuple(args), name.column)


_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _duration_s(text: str) -> float:
    number = text.rstrip("mshd")
    return float(number) * _UNIT_S[text[len(number):]]


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
            if isinstance(value, str):
                return ValueType.STRING
            return ValueType.BOOLEAN if isinstance(value, bool) else ValueType.NUMBER
        case Duration():
            return ValueType.DURATION
        case Call():
            return _check_call(node, source, metric_types)
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


def _check_call(node: Call, source: str, metric_types: Mapping[str, ValueType] | None) -> ValueType:
    """The type of a function call; the arguments' shapes are fixed per function."""
    args, name = node.args, node.name

    def shape(*wanted: str) -> None:
        kinds = tuple("duration" if isinstance(a, Duration) else "metric" if isinstance(a, Metric)
                      else "expression" for a in args)
        ok = len(kinds) == len(wanted) and all((w == "expression" and k != "duration") or w == k
                                               for w, k in zip(wanted, kinds, strict=True))
        if not ok:
            usage = {"metric": "metric", "duration": "10m", "expression": "condition"}
            raise _error(source, node.column, f"{name}() takes ({', '.join(usage[w] for w in wanted)})")

    def need(child: Node, wanted: ValueType) -> ValueType:
        found = check_types(child, source, metric_types)
        if not found.fits(wanted):
            raise _error(source, child.column, f"{name}() needs a {wanted.value}, got a {found.value}")
        return found

    if name in WINDOW_FUNCTIONS:
        shape("metric", "duration")
        need(args[0], ValueType.NUMBER)
        return ValueType.NUMBER
    if name == "count":
        shape("expression", "duration")
        need(args[0], ValueType.BOOLEAN)
        return ValueType.NUMBER
    if name == "stale":
        if len(args) == 2:
            shape("metric", "duration")
            check_types(args[0], source, metric_types)
        elif args:
            shape("duration")
        return ValueType.BOOLEAN
    shape("expression", "expression")  # coalesce
    first = check_types(args[0], source, metric_types)
    return need(args[1], first) if first is not ValueType.ANY else check_types(args[1], source, metric_types)


# --- compilation to closures -----------------------------------------------------------------------

_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def compile_node(node: Node) -> Evaluator:
    """A closure evaluating ``node`` against the latest metric values; None means unknown."""
    match node:
        case Literal(value=value):
            return lambda _values: value
        case Duration(seconds=seconds):
            return lambda _values: seconds
        case Call():
            return _compile_call(node)
        case Metric(name=name):
            return lambda values: values.get(name)
        case Unary(op="not", operand=Metric(name=name)):
            return lambda values: None if (value := values.get(name)) is None else not value
        case Unary():
            return _compile_unary(node.op, compile_node(node.operand))
        case Binary():
            return _compile_binary(node.op, compile_node(node.left), compile_node(node.right))
        case Logical():
            return _compile_logical(node.op == "and", tuple(compile_node(c) for c in node.operands))
        case Compare(operands=(Metric(name=name), Literal(value=limit)), ops=(op,)) if not isinstance(limit, str):
            return _compile_metric_compare(name, _ORDER[op], limit, True)
        case Compare(operands=(Literal(value=limit), Metric(name=name)), ops=(op,)) if not isinstance(limit, str):
            return _compile_metric_compare(name, _ORDER[op], limit, False)
        case Compare():
            return _compile_compare(tuple(_ORDER[op] for op in node.ops),
                                    tuple(compile_node(c) for c in node.operands))
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def _compile_call(node: Call) -> Evaluator:
    name, args = node.name, node.args
    if name == "coalesce":
        first, second = compile_node(args[0]), compile_node(args[1])
        return lambda values: (value if (value := first(values)) is not None else second(values))
    if name == "stale":
        return _compile_stale(args)
    span = args[-1].seconds if isinstance(args[-1], Duration) else 0.0
    return window_function(name, series_key(node), span)


def series_key(node: Call) -> str:
    """The window a window function reads: the metric's name, or ``count(<condition>)``."""
    if node.name == "count":
        return f"count({unparse(node.args[0])})"
    metric = node.args[0]
    assert isinstance(metric, Metric)
    return metric.name


def _compile_stale(args: tuple[Node, ...]) -> Evaluator:
    span = args[-1].seconds if args and isinstance(args[-1], Duration) else None
    metric = args[0].name if len(args) == 2 and isinstance(args[0], Metric) else None
    return stale_function(span, metric)


def _compile_unary(op: str, operand: Evaluator) -> Evaluator:
    def evaluate(values: Values) -> Value | None:
        value = operand(values)
        if value is None:
            return None
        if op == "not":
            return not value
        return -float(value) if op == "-" else float(value)

    return evaluate


def _compile_binary(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    apply = _ARITHMETIC[op]

    def evaluate(values: Values) -> Value | None:
        a, b = left(values), right(values)
        if a is None or b is None:
            return None
        try:
            return apply(float(a), float(b))
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


def _compile_metric_compare(name: str, apply: Callable[[Any, Any], bool], limit: Value,
                            metric_left: bool) -> Evaluator:
    # The most common condition, ``metric > 7.1``, as one closure: it runs on every reading.
    if metric_left:
        def evaluate_left(values: Values) -> Value | None:
            value = values.get(name)
            return None if value is None else apply(value, limit)

        return evaluate_left

    def evaluate_right(values: Values) -> Value | None:
        value = values.get(name)
        return None if value is None else apply(limit, value)

    return evaluate_right


def _compile_compare(ops: tuple[Callable[[Any, Any], bool], ...],
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
        case Logical(operands=operands) | Compare(operands=operands) | Call(args=operands):
            return frozenset().union(*(_metric_names(child) for child in operands))
    return frozenset()


def _calls(node: Node) -> list[Call]:
    """Every function call in ``node``, outermost first."""
    match node:
        case Call(args=args):
            return [node, *(call for child in args for call in _calls(child))]
        case Unary(operand=operand):
            return _calls(operand)
        case Binary(left=left, right=right):
            return _calls(left) + _calls(right)
        case Logical(operands=operands) | Compare(operands=operands):
            return [call for child in operands for call in _calls(child)]
    return []


def _series_needs(node: Node) -> tuple[SeriesNeed, ...]:
    needs: list[SeriesNeed] = []
    for call in _calls(node):
        span = call.args[-1].seconds if call.args and isinstance(call.args[-1], Duration) else 0.0
        if call.name == "count":
            needs.append(SeriesNeed(series_key(call), span, compile_node(call.args[0])))
        elif call.name in WINDOW_FUNCTIONS or (call.name == "stale" and len(call.args) == 2):
            needs.append(SeriesNeed(series_key(call), span))
    return tuple(needs)


def unparse(node: Node) -> str:
    """Canonical source text of ``node`` (fully parenthesised where it matters)."""
    match node:
        case Literal(value=value):
            if isinstance(value, str):
                return repr(value)
            return ("true" if value else "false") if isinstance(value, bool) else f"{value:g}"
        case Duration(seconds=seconds):
            return f"{seconds:g}s"
        case Metric(name=name):
            return name
        case Call(name=name, args=args):
            return f"{name}({', '.join(unparse(arg) for arg in args)})"
        case Unary(op=op, operand=operand):
            return f"{op} {unparse(operand)}" if op == "not" else f"{op}{unparse(operand)}"
        case Binary(op=op, left=left, right=right):
            return f"({unparse(left)} {op} {unparse(right)})"
        case Compare(operands=operands, ops=ops):
            parts = [unparse(operands[0])]
            for op, operand in zip(ops, operands[1:], strict=True):
                parts += [op, unparse(operand)]
            return "(" + " ".join(parts) + ")"
        case Logical(op=op, operands=operands):
            return "(" + f" {op} ".join(unparse(child) for child in operands) + ")"
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression; equal when the source text is equal."""

    source: str
    node: Node = field(compare=False, repr=False)
    type: ValueType = field(compare=False)
    metrics: frozenset[str] = field(compare=False)
    evaluate: Evaluator = field(compare=False, repr=False)
    series: tuple[SeriesNeed, ...] = field(default=(), compare=False, repr=False)
    time_driven: bool = field(default=False, compare=False)  # uses stale(): judged again at each watermark

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
    calls = _calls(node)
    return Expression(source, node, found, _metric_names(node), compile_node(node), _series_needs(node),
                      any(call.name == "stale" for call in calls))
