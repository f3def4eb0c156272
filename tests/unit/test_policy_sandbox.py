"""The Jinja sandbox that runs expression policies and webhook mappings.

Escapes are refused with an error naming what was refused; anything that would grow without
bound (ranges, repetition, powers, formatting widths, concatenation, loops, output) is stopped
with a clear error instead of eating the worker's memory or time.
"""

from __future__ import annotations

import ipaddress
import sys
import time

import pytest

from webapp.policies.sandbox import SandboxError, check, evaluate, render

VARIABLES = {
    "event": {"action": "login", "user": {"pk": 1, "username": "alice"}, "context": {"n": 2}},
    "ip_address": ipaddress.ip_address,
    "ip_network": ipaddress.ip_network,
}


def refused(source: str, *, expression: bool = True) -> str:
    with pytest.raises(SandboxError) as caught:
        if expression:
            evaluate(source, VARIABLES)
        else:
            render(source, VARIABLES)
    return str(caught.value)


def test_expressions_see_the_event_and_return_plain_data() -> None:
    assert evaluate("event.action == 'login' and event.context.n > 1", VARIABLES) is True
    assert evaluate("event.user", VARIABLES) == {"pk": 1, "username": "alice"}
    assert evaluate("event.context.missing.deeper", VARIABLES) is None
    assert evaluate("ip_address('10.1.2.3') in ip_network('10.0.0.0/8')", VARIABLES) is True
    assert evaluate("ip_address('2001:db8::1')", VARIABLES) == "2001:db8::1"


def test_templates_render_text() -> None:
    assert render("{{ event.user.username }}:{{ event.action }}", VARIABLES) == "alice:login"


@pytest.mark.parametrize(("source", "name"), [
    ("().__class__.__mro__", "__mro__"),
    ("event.__class__", "__class__"),
    ("event['__class__']", "__class__"),
    ("event['_' ~ '_class__']", "__class__"),
    ("'{0.__class__}'.format(event)", "__class__"),
    ("lipsum.__globals__", "__globals__"),
    ("cycler.__init__", "__init__"),
    ("joiner.__init__", "__init__"),
    ("ip_address.__globals__", "__globals__"),
    ("self._TemplateReference__context", "_TemplateReference__context"),
    ("event._private", "_private"),
    ("event|attr('__class__')", "__class__"),
    ("[event]|map(attribute='__class__')|list", "__class__"),
])
def test_private_and_dunder_access_is_refused_by_name(source: str, name: str) -> None:
    assert f"access to {name!r} is not allowed" in refused(source)


def test_internals_without_underscores_are_refused_too() -> None:
    assert "not allowed" in refused("event.update({'action': 'x'})")
    assert "not allowed" in refused("ip_address('1.2.3.4').__reduce__()")


@pytest.mark.parametrize("source", ["range", "ip_address", "self", "namespace"])
def test_live_objects_never_leave_the_sandbox(source: str) -> None:
    assert "not plain data" in refused(source)


@pytest.mark.parametrize(("source", "expected"), [
    ("range(10 ** 9)", "range too large"),
    ("'x' * 10 ** 8", "repetition too large"),
    ("[1] * 10 ** 8", "repetition too large"),
    ("2 ** 100000", "power too large"),
    ("'%999999999s' % 'x'", "format width not allowed"),
    ("'%*s' % (10, 'x')", "format width not allowed"),
    ("'{:>999999999}'.format('x')", "format width not allowed"),
    ("'{:{}}'.format('x', 10)", "format width not allowed"),
    ("'x'.center(999999999)", "argument too large"),
    ("'x'|center(999999999)", "argument too large"),
    ("'%999999999s'|format('x')", "format width not allowed"),
    ("('a' * 1000)|replace('', 'b' * 10000)", "replacement too large"),
])
def test_values_that_would_grow_without_bound_are_stopped(source: str, expected: str) -> None:
    assert expected in refused(source)


@pytest.mark.parametrize("operator", ["~", "+"])
def test_doubling_a_string_in_a_loop_stops_at_the_size_limit(operator: str) -> None:
    template = ("{% set ns = namespace(s='x') %}{% for i in range(100) %}"
                f"{{% set ns.s = ns.s {operator} ns.s %}}{{% endfor %}}{{{{ ns.s|length }}}}")
    assert "value too large" in refused(template, expression=False)


def test_a_runaway_nested_loop_is_stopped_at_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(SandboxError, match=r"stopped after 0\.3 s"):
        render("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
               {}, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_a_slow_expression_is_stopped_at_the_deadline() -> None:
    with pytest.raises(SandboxError, match="stopped after"):
        evaluate("range(100000)|select('in', range(100000)|list)|list|length", {}, timeout=0.3)


def test_the_deadline_tracer_is_removed_afterwards() -> None:
    before = sys.gettrace()
    evaluate("1 + 1", {})
    with pytest.raises(SandboxError):
        evaluate("1 / 0", {})
    assert sys.gettrace() is before


def test_output_larger_than_max_size_is_stopped() -> None:
    with pytest.raises(SandboxError, match="output too large"):
        render("{% for i in range(1000) %}0123456789{% endfor %}", {}, max_size=5000)


def test_recursion_is_stopped() -> None:
    assert "recursive" in refused("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
                                  expression=False)


def test_runtime_errors_become_one_line_sandbox_errors() -> None:
    assert refused("1 / 0") == "ZeroDivisionError: division by zero"
    assert refused("ip_address('not an ip')").startswith("ValueError: ")


def test_check_reports_syntax_errors_and_private_names_with_their_line() -> None:
    check("event.action == 'login'", expression=True)
    check("{{ event.action }}", expression=False)
    with pytest.raises(SandboxError, match="^line 1: "):
        check("event.action ==", expression=True)
    with pytest.raises(SandboxError, match="^line 1: "):
        check("event.action }}", expression=True)
    with pytest.raises(SandboxError, match="^line 3: "):
        check("a\nb\n{% for %}", expression=False)
    with pytest.raises(SandboxError, match=r"^line 2: access to '__class__' is not allowed"):
        check("{{ event }}\n{{ event.__class__ }}", expression=False)
