"""The one place user-written Jinja runs: expression policies, webhook mappings, throttle keys.

Jinja's ImmutableSandboxedEnvironment already refuses unsafe attributes and mutation of the
variables; on top of it this module:

- rejects every attribute or key starting with `_` at once, with an error that names it
  (Jinja would hand back an Undefined that fails later, or becomes `None` in an expression);
- bounds size: `range` to MAX_RANGE items, and `*`, `**`, `%`, `+`, `~`, filters and string
  methods so that no single value outgrows MAX_SIZE (items, characters, or bits for integers);
- bounds time: a `sys.settrace` tracer, installed only around the evaluating call, raises at
  the deadline (compiled Jinja code is Python, so every loop iteration emits line events);
- returns plain data only, so a caller never receives a function or an object with internals.

Every failure, whatever its cause, surfaces as a SandboxError with a one-line message.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_RANGE = 100_000
#: Characters of a string, items of a collection; integers get MAX_INT_BITS.
MAX_SIZE = 1_000_000
MAX_INT_BITS = 4096

_PLAIN_LEAVES = (str, int, float, bool, type(None), date)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?")


class SandboxError(Exception):
    """A user-written expression or template failed; the message is fit for the user."""


@contextmanager
def _deadline(timeout: float) -> Iterator[None]:
    """Raise SandboxError inside the traced code once `timeout` seconds have passed."""
    stop_at = time.monotonic() + timeout

    def tracer(frame: Any, event: str, arg: Any) -> Callable[..., Any]:
        if time.monotonic() > stop_at:
            raise SandboxError(f"stopped after {timeout:g} s")
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


def _size_of(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value.bit_length() * MAX_SIZE // MAX_INT_BITS
    if isinstance(value, (str, bytes, list, tuple, dict, set)):
        return len(value)
    return 0


def _bounded(value: Any) -> Any:
    if _size_of(value) > MAX_SIZE:
        raise SandboxError("value too large (the sandbox allows "
                           f"{MAX_SIZE:,} characters or items, {MAX_INT_BITS} bits)")
    return value


def _check_repeat(left: Any, right: Any) -> None:
    sized, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(count, int) and count > 0 and _size_of(sized) * count > MAX_SIZE:
        raise SandboxError(f"repetition too large (more than {MAX_SIZE:,} characters or items)")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and (
            exponent * abs(base).bit_length() > MAX_INT_BITS):
        raise SandboxError(f"power too large (more than {MAX_INT_BITS} bits)")


def _check_percent(left: Any, right: Any) -> None:
    if isinstance(left, str):
        for width, precision in _PERCENT_SPEC.findall(left):
            _check_width(width)
            _check_width(precision)


def _check_width(spec: str) -> None:
    if spec == "*" or (spec.isdigit() and int(spec) > MAX_SIZE) or "{" in spec:
        raise SandboxError(f"format width not allowed: {spec!r}")


def _check_format_string(template: str) -> None:
    for _literal, _field, spec, _conversion in string.Formatter().parse(template):
        for number in re.findall(r"\{|\d+", spec or ""):
            _check_width(number)


def _check_call_args(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Numbers large enough to size a result (`center(10**9)`) and replacements that would
    multiply a string are refused before the call allocates anything."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE:
            raise SandboxError(f"argument too large: {value}")
    texts = [a for a in args if isinstance(a, str)]
    if getattr(func, "__name__", "") in {"replace", "do_replace"} and len(texts) >= 3:
        subject, old, new = texts[:3]
        hits = subject.count(old) if old else len(subject) + 1
        if len(subject) + hits * len(new) > MAX_SIZE:
            raise SandboxError(f"replacement too large (more than {MAX_SIZE:,} characters)")


def _bounded_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_call_args(func, args[1:], kwargs)
        return _bounded(func(*args, **kwargs))

    return wrapper


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SandboxError(f"range too large (at most {MAX_RANGE:,} items)")
    return result


class _BoundedCodeGenerator(CodeGenerator):
    """Routes `~` concatenation through the size check, so doubling a string in a loop stops."""

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Environment(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    _binop_checks: dict[str, Callable[[Any, Any], None]] = {
        "*": _check_repeat, "**": _check_power, "%": _check_percent}

    def __init__(self) -> None:
        super().__init__(undefined=ChainableUndefined, autoescape=False)
        for name in ("lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.globals["range"] = _range
        self.filters = {name: _bounded_filter(func) for name, func in self.filters.items()}
        self.filters["format"] = _bounded_filter(self._percent_filter)
        self.bounded = _bounded

    @staticmethod
    def _percent_filter(value: Any, *args: Any) -> str:
        _check_percent(str(value), args)
        return str(value) % args

    def getattr(self, obj: Any, attribute: str) -> Any:
        _refuse_private(attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _refuse_private(argument)
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to {attribute!r} is not allowed")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._binop_checks.get(operator, lambda _left, _right: None)(left, right)
        return _bounded(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        _check_format_string(value.__self__)
        return lambda *args, **kwargs: _bounded(formatter(*args, **kwargs))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if isinstance(getattr(__obj, "__self__", None), (str, list, tuple, bytes)):
            _check_call_args(__obj, (__obj.__self__, *args), kwargs)
        return _bounded(super().call(__context, __obj, *args, **kwargs))


def _refuse_private(name: Any) -> None:
    if isinstance(name, str) and name.startswith("_"):
        raise SecurityError(f"access to {name!r} is not allowed (names starting with '_' "
                            "are private)")


_ENV = _Environment()


@functools.lru_cache(maxsize=512)
def _compiled_expression(source: str) -> Any:
    return _ENV.compile_expression(source)


@functools.lru_cache(maxsize=512)
def _compiled_template(source: str) -> Any:
    return _ENV.from_string(source)


def _guarded(work: Callable[[], Any], timeout: float | None) -> Any:
    """Run `work` (under the deadline, if any) and turn every failure into a one-line
    SandboxError."""
    try:
        with _deadline(timeout) if timeout is not None else nullcontext():
            return work()
    except SandboxError:
        raise
    except SecurityError as exc:
        raise SandboxError(str(exc)) from None
    except TemplateSyntaxError as exc:
        raise SandboxError(f"line {exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise SandboxError("too deeply nested or recursive") from None
    except MemoryError:
        raise SandboxError("out of memory") from None
    except Exception as exc:  # noqa: BLE001 - any failure of user code is the user's error
        raise SandboxError(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _plain(value: Any) -> Any:
    """Copy a result into plain data; functions and objects with internals never leave."""
    if isinstance(value, ChainableUndefined):
        return None
    if isinstance(value, _PLAIN_LEAVES):
        return value
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address,
                          ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, range)):
        return [_plain(item) for item in value]
    raise SandboxError(f"the result is a {type(value).__name__}, not plain data")


def evaluate(expression: str, variables: dict[str, Any], *, timeout: float = 1.0) -> Any:
    """The value of one Jinja expression (`event.action == "login"`), as plain data."""
    _static_check(expression, expression=True)
    return _guarded(lambda: _plain(_compiled_expression(expression)(**variables)), timeout)


def render(template: str, variables: dict[str, Any], *, timeout: float = 1.0,
           max_size: int = 1_000_000) -> str:
    """A Jinja template rendered to text of at most `max_size` characters."""
    _static_check(template, expression=False)
    return _guarded(lambda: _render_bounded(_compiled_template(template), variables, max_size),
                    timeout)


def _render_bounded(template: Any, variables: dict[str, Any], max_size: int) -> str:
    """Join the output chunk by chunk so an oversized rendering stops as soon as it is."""
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**variables):
        size += len(chunk)
        if size > max_size:
            raise SandboxError(f"output too large (more than {max_size:,} characters)")
        chunks.append(chunk)
    return "".join(chunks)


def check(source: str, *, expression: bool) -> None:
    """Raise SandboxError, with the line, when `source` does not parse or names a private
    attribute; for forms and the API to refuse a policy or mapping before it is saved."""
    _static_check(source, expression=expression)


def _static_check(source: str, *, expression: bool) -> None:
    tree = _guarded(lambda: _parse(source, expression=expression), timeout=None)
    for node in [tree, *tree.find_all((nodes.Getattr, nodes.Getitem))]:
        name = getattr(node, "attr", None) or getattr(getattr(node, "arg", None), "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise SandboxError(f"line {node.lineno}: access to {name!r} is not allowed "
                               "(names starting with '_' are private)")


@functools.lru_cache(maxsize=512)
def _parse(source: str, *, expression: bool) -> nodes.Node:
    if not expression:
        return _ENV.parse(source)
    parser = Parser(_ENV, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    return expr
