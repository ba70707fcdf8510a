"""The Kubernetes CEL libraries, against the examples of the Kubernetes docs.

Examples from https://kubernetes.io/docs/reference/using-api/cel/ ("Kubernetes CEL
libraries": lists, regex, URLs, IP addresses and CIDRs, quantities, sets), each with the
result the docs give.
"""

from __future__ import annotations

from typing import Any

import pytest

from klint.quantity import QuantityError, parse_quantity

pytest.importorskip("cel_expr_python")

from klint.cel.environment import (
    CelCompileError,
    CelEvalError,
    compile_expression,
    evaluate,
)

DOCS_EXAMPLES: list[tuple[str, Any]] = [
    # lists
    ("[1, 2, 3].isSorted()", True),
    ("['b', 'a'].isSorted()", False),
    ("[1, 2, 3].sum() == 6", True),
    ("[0.5, 0.25, 0.25].sum() == 1.0", True),
    ("[3, 1, 2].max() < [5, 4].min()", True),
    # regex
    ("'abc 123'.find('[0-9]+')", "123"),
    ("'1, 2, 3, 4'.findAll('[0-9]+').map(x, int(x)).sum() < 100", True),
    ("'a1b2c3'.findAll('[0-9]', 2)", ["1", "2"]),
    # URLs
    ("url('https://example.com:80/').getHost()", "example.com:80"),
    ("url('https://example.com:80/').getHostname()", "example.com"),
    ("url('https://example.com:80/').getPort()", "80"),
    ("url('https://[::1]:80/').getHostname()", "::1"),
    ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
    ("url('https://example.com/?k=a&k=b').getQuery()", {"k": ["a", "b"]}),
    ("url('/absolute-path').getScheme()", ""),
    ("isURL('https://example.com/')", True),
    ("isURL('example.com')", False),
    # IP addresses and CIDRs
    ("isIP('127.0.0.1')", True),
    ("isIP('1.2.3.4.5')", False),
    ("ip('127.0.0.1').family()", 4),
    ("ip('::1').family()", 6),
    ("ip('127.0.0.1').isLoopback()", True),
    ("ip('0.0.0.0').isUnspecified()", True),
    ("ip('fe80::1').isLinkLocalUnicast()", True),
    ("ip('224.0.0.1').isLinkLocalMulticast()", True),
    ("ip('192.168.0.1').isGlobalUnicast()", True),
    ("ip.isCanonical('2001:db8::abcd')", True),
    ("ip.isCanonical('2001:DB8::ABCD')", False),
    ("ip('2001:DB8::ABCD') == ip('2001:db8::abcd')", True),
    ("isCIDR('192.168.0.0/24')", True),
    ("isCIDR('192.168.0.0')", False),
    ("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", True),
    ("cidr('192.168.0.0/24').containsIP('192.168.1.1')", False),
    ("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", True),
    ("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/16')", False),
    ("cidr('192.168.0.1/24').ip().family()", 4),
    ("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", True),
    ("cidr('192.168.0.0/24').prefixLength()", 24),
    # quantities
    ("isQuantity('1.3G')", True),
    ("isQuantity('1.3Gi2')", False),
    ("quantity('50000000G').isInteger()", True),
    ("quantity('9999999999999999999999999999999999999G').isInteger()", False),
    ("quantity('50k').asInteger()", 50000),
    ("quantity('50.703k').asApproximateFloat()", 50703.0),
    ("quantity('50M').sign()", 1),
    ("quantity('-50M').sign()", -1),
    ("quantity('200M').compareTo(quantity('0.2G'))", 0),
    ("quantity('50M').isGreaterThan(quantity('50Mi'))", False),
    ("quantity('50Mi').isGreaterThan(quantity('50M'))", True),
    ("quantity('50k').add(20).compareTo(quantity('50020'))", 0),
    ("quantity('50k').sub(quantity('20')).compareTo(quantity('49980'))", 0),
    ("quantity('500m').isLessThan(quantity('1'))", True),
    # sets
    ("sets.contains([], [])", True),
    ("sets.contains([1, 2, 3, 4], [2, 3])", True),
    ("sets.contains([1, 2, 3], [3, 4])", False),
    ("sets.equivalent([1, 2, 3], [3, 2, 1])", True),
    ("sets.equivalent([1, 2], [1, 2, 3])", False),
    ("sets.intersects([1], [1, 2])", True),
    ("sets.intersects([1], [2])", False),
    # the standard extensions Kubernetes enables
    ("'Hello'.lowerAscii()", "hello"),
    ("'a,b'.split(',')", ["a", "b"]),
    ("'%s is %d'.format(['x', 1])", "x is 1"),
    ("base64.encode(b'hi')", "aGk="),
    ("math.greatest(1, 5, 3)", 5),
    ("cel.bind(x, 2, x * x)", 4),
    ("{'a': 1}.?b.orValue(7)", 7),
]


@pytest.mark.parametrize(("expression", "result"), DOCS_EXAMPLES)
def test_docs_example(expression: str, result: Any) -> None:
    assert evaluate(expression, {}) == result


@pytest.mark.parametrize(
    "expression",
    [
        "quantity('1.3Gi2')",
        "quantity('50.5').asInteger()",
        "ip('1.2.3.4.5')",
        "ip('::ffff:1.2.3.4')",
        "cidr('192.168.0.0')",
        "url('example.com')",
        "[].min()",
    ],
)
def test_invalid_input_is_an_evaluation_error(expression: str) -> None:
    with pytest.raises(CelEvalError):
        evaluate(expression, {})


def test_compile_errors_are_reported_with_position() -> None:
    with pytest.raises(CelCompileError, match="1:11: Syntax error"):
        compile_expression("object.x +")
    with pytest.raises(CelCompileError, match="undeclared reference to 'authorizer'"):
        compile_expression("authorizer.group('').check('get').allowed()")


def test_compiled_once_per_text() -> None:
    assert compile_expression("1 + 1 == 2") is compile_expression("1 + 1 == 2")


def test_missing_field_is_an_evaluation_error_and_has_is_false() -> None:
    with pytest.raises(CelEvalError, match=r"no such key|Key not found"):
        evaluate("object.spec.replicas", {"object": {"spec": {}}})
    assert evaluate("has(object.spec.replicas)", {"object": {"spec": {}}}) is False


@pytest.mark.parametrize(
    ("text", "value"),
    [("1Gi", 1024**3), ("500m", 0.5), ("1e3", 1000), ("+1M", 10**6), (".5Ki", 512), (2, 2)],
)
def test_quantity_parser(text: object, value: float) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["1 Gi", "1KB", "", "abc", "1.2.3", True, "1e99999"])
def test_quantity_parser_rejects(text: object) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
