"""The Kubernetes CEL libraries the runtime lacks, as plain Python functions.

Kubernetes adds quantity, URL, IP/CIDR, list, set and regex functions to CEL
(https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-cel-libraries). The
runtime has no opaque types for Python values, so a quantity, URL, IP or CIDR travels
through CEL as a one-key map (``{"@quantity": "3/2"}``); each function here checks the
tag. Errors are raised as ``ValueError`` and become CEL evaluation errors.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from klint.quantity import QuantityError, parse_quantity

Opaque = dict[str, Any]
_INT64 = (-(2**63), 2**63 - 1)


def _tagged(value: Any, tag: str) -> str:
    if isinstance(value, dict) and isinstance(value.get(tag), str):
        text: str = value[tag]
        return text
    raise ValueError(f"expected a {tag[1:]}, got {type(value).__name__}")


# --- quantity ----------------------------------------------------------------------------


def _q(value: Fraction) -> Opaque:
    return {"@quantity": f"{value.numerator}/{value.denominator}"}


def _qv(value: Any) -> Fraction:
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    return Fraction(_tagged(value, "@quantity"))


def quantity(text: str) -> Opaque:
    try:
        return _q(parse_quantity(text))
    except QuantityError as error:
        raise ValueError(str(error)) from None


def is_quantity(text: str) -> bool:
    try:
        parse_quantity(text)
    except QuantityError:
        return False
    return True


def q_is_integer(value: Any) -> bool:
    number = _qv(value)
    return number.denominator == 1 and _INT64[0] <= number <= _INT64[1]


def q_as_integer(value: Any) -> int:
    if not q_is_integer(value):
        raise ValueError("cannot convert value to integer")
    return int(_qv(value))


def q_as_float(value: Any) -> float:
    return float(_qv(value))


def q_sign(value: Any) -> int:
    number = _qv(value)
    return (number > 0) - (number < 0)


def q_add(left: Any, right: Any) -> Opaque:
    return _q(_qv(left) + _qv(right))


def q_sub(left: Any, right: Any) -> Opaque:
    return _q(_qv(left) - _qv(right))


def q_compare(left: Any, right: Any) -> int:
    a, b = _qv(left), _qv(right)
    return (a > b) - (a < b)


def q_less(left: Any, right: Any) -> bool:
    return q_compare(left, right) < 0


def q_greater(left: Any, right: Any) -> bool:
    return q_compare(left, right) > 0


# --- url ---------------------------------------------------------------------------------


def url(text: str) -> Opaque:
    if not is_url(text):
        raise ValueError(f"URL parse error during conversion from string: {text!r}")
    return {"@url": text}


def is_url(text: str) -> bool:
    """Go's url.ParseRequestURI: an absolute URL or an absolute path."""
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return bool(parts.scheme) or text.startswith("/")


def _url(value: Any) -> Any:
    return urlsplit(_tagged(value, "@url"))


def url_scheme(value: Any) -> str:
    return str(_url(value).scheme)


def url_host(value: Any) -> str:
    return str(_url(value).netloc.rpartition("@")[2])


def url_hostname(value: Any) -> str:
    host = url_host(value)
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.partition(":")[0]


def url_port(value: Any) -> str:
    host = url_host(value)
    tail = host.rpartition("]")[2] if host.startswith("[") else host
    return tail.partition(":")[2]


def url_path(value: Any) -> str:
    return quote(unquote(str(_url(value).path)), safe="/!$&'()*+,;=:@")


def url_query(value: Any) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = parse_qs(_url(value).query, keep_blank_values=True)
    return parsed


# --- ip and cidr ---------------------------------------------------------------------------


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if "%" in text:
        raise ValueError(f"IP address with zone value is not allowed: {text!r}")
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address is not allowed: {text!r}")
    return address


def ip(text: str) -> Opaque:
    return {"@ip": str(_parse_ip(text))}


def is_ip(text: str) -> bool:
    try:
        _parse_ip(text)
    except ValueError:
        return False
    return True


def ip_is_canonical(text: str) -> bool:
    return str(_parse_ip(text)) == text


def _ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(value, str):
        return _parse_ip(value)
    return _parse_ip(_tagged(value, "@ip"))


def ip_family(value: Any) -> int:
    return _ip(value).version


def ip_unspecified(value: Any) -> bool:
    return _ip(value).is_unspecified


def ip_loopback(value: Any) -> bool:
    return _ip(value).is_loopback


def ip_link_local_multicast(value: Any) -> bool:
    address = _ip(value)
    if address.version == 4:
        return address in ipaddress.ip_network("224.0.0.0/24")
    return address in ipaddress.ip_network("ff02::/16")


def ip_link_local_unicast(value: Any) -> bool:
    return _ip(value).is_link_local


def ip_global_unicast(value: Any) -> bool:
    address = _ip(value)
    broadcast = address.version == 4 and int(address) == 0xFFFFFFFF
    return not (
        address.is_unspecified
        or address.is_loopback
        or address.is_multicast
        or address.is_link_local
        or broadcast
    )


def cidr(text: str) -> Opaque:
    parsed = _parse_cidr(text)
    return {"@cidr": f"{parsed.ip}/{parsed.network.prefixlen}"}


def is_cidr(text: str) -> bool:
    try:
        _parse_cidr(text)
    except ValueError:
        return False
    return True


def _parse_cidr(text: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    address, slash, prefix = text.partition("/")
    if not slash or not prefix.isdigit():
        raise ValueError(f"network address parse error during conversion from string: {text!r}")
    _parse_ip(address)
    return ipaddress.ip_interface(text)


def _cidr(value: Any) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    return _parse_cidr(value if isinstance(value, str) else _tagged(value, "@cidr"))


def cidr_contains_ip(value: Any, other: Any) -> bool:
    return _ip(other) in _cidr(value).network


def cidr_contains_cidr(value: Any, other: Any) -> bool:
    inner = _cidr(other).network
    outer = _cidr(value).network
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def cidr_ip(value: Any) -> Opaque:
    return {"@ip": str(_cidr(value).ip)}


def cidr_masked(value: Any) -> Opaque:
    return {"@cidr": str(_cidr(value).network)}


def cidr_prefix_length(value: Any) -> int:
    return _cidr(value).network.prefixlen


# --- lists, sets and regex -------------------------------------------------------------------


def _comparable(values: list[Any]) -> list[Any]:
    if any(isinstance(v, (dict, list)) for v in values):
        raise ValueError("list elements must be comparable")
    return values


def is_sorted(values: list[Any]) -> bool:
    items = _comparable(values)
    return all(a <= b for a, b in itertools.pairwise(items))


def list_sum(values: list[Any]) -> Any:
    return sum(_comparable(values))


def list_min(values: list[Any]) -> Any:
    if not values:
        raise ValueError("min called on empty list")
    return min(_comparable(values))


def list_max(values: list[Any]) -> Any:
    if not values:
        raise ValueError("max called on empty list")
    return max(_comparable(values))


def sets_contains(values: list[Any], others: list[Any]) -> bool:
    return all(item in values for item in others)


def sets_equivalent(values: list[Any], others: list[Any]) -> bool:
    return sets_contains(values, others) and sets_contains(others, values)


def sets_intersects(values: list[Any], others: list[Any]) -> bool:
    return any(item in values for item in others)


def regex_find(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return match.group(0) if match else ""


def regex_find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in re.finditer(pattern, text)]
    return found if limit < 0 else found[:limit]


# name → (overload suffix, parameter kinds, return kind, is member, implementation)
# kinds: s string, i int, b bool, f double, d dyn, o opaque map, l list, m map<string, list>
FUNCTIONS: tuple[tuple[str, str, str, str, bool, Callable[..., Any]], ...] = (
    ("quantity", "string", "s", "o", False, quantity),
    ("isQuantity", "string", "s", "b", False, is_quantity),
    ("isInteger", "quantity", "o", "b", True, q_is_integer),
    ("asInteger", "quantity", "o", "i", True, q_as_integer),
    ("asApproximateFloat", "quantity", "o", "f", True, q_as_float),
    ("sign", "quantity", "o", "i", True, q_sign),
    ("add", "quantity", "oo", "o", True, q_add),
    ("add", "quantity_int", "oi", "o", True, q_add),
    ("sub", "quantity", "oo", "o", True, q_sub),
    ("sub", "quantity_int", "oi", "o", True, q_sub),
    ("isLessThan", "quantity", "oo", "b", True, q_less),
    ("isGreaterThan", "quantity", "oo", "b", True, q_greater),
    ("compareTo", "quantity", "oo", "i", True, q_compare),
    ("url", "string", "s", "o", False, url),
    ("isURL", "string", "s", "b", False, is_url),
    ("getScheme", "url", "o", "s", True, url_scheme),
    ("getHost", "url", "o", "s", True, url_host),
    ("getHostname", "url", "o", "s", True, url_hostname),
    ("getPort", "url", "o", "s", True, url_port),
    ("getEscapedPath", "url", "o", "s", True, url_path),
    ("getQuery", "url", "o", "m", True, url_query),
    ("ip", "string", "s", "o", False, ip),
    ("isIP", "string", "s", "b", False, is_ip),
    ("ip.isCanonical", "string", "s", "b", False, ip_is_canonical),
    ("family", "ip", "o", "i", True, ip_family),
    ("isUnspecified", "ip", "o", "b", True, ip_unspecified),
    ("isLoopback", "ip", "o", "b", True, ip_loopback),
    ("isLinkLocalMulticast", "ip", "o", "b", True, ip_link_local_multicast),
    ("isLinkLocalUnicast", "ip", "o", "b", True, ip_link_local_unicast),
    ("isGlobalUnicast", "ip", "o", "b", True, ip_global_unicast),
    ("cidr", "string", "s", "o", False, cidr),
    ("isCIDR", "string", "s", "b", False, is_cidr),
    ("containsIP", "cidr_ip", "oo", "b", True, cidr_contains_ip),
    ("containsIP", "cidr_string", "os", "b", True, cidr_contains_ip),
    ("containsCIDR", "cidr_cidr", "oo", "b", True, cidr_contains_cidr),
    ("containsCIDR", "cidr_string", "os", "b", True, cidr_contains_cidr),
    ("ip", "cidr", "o", "o", True, cidr_ip),
    ("masked", "cidr", "o", "o", True, cidr_masked),
    ("prefixLength", "cidr", "o", "i", True, cidr_prefix_length),
    ("isSorted", "list", "l", "b", True, is_sorted),
    ("sum", "list", "l", "d", True, list_sum),
    ("min", "list", "l", "d", True, list_min),
    ("max", "list", "l", "d", True, list_max),
    ("sets.contains", "list", "ll", "b", False, sets_contains),
    ("sets.equivalent", "list", "ll", "b", False, sets_equivalent),
    ("sets.intersects", "list", "ll", "b", False, sets_intersects),
    ("find", "string", "ss", "s", True, regex_find),
    ("findAll", "string", "ss", "l", True, regex_find_all),
    ("findAll", "string_int", "ssi", "l", True, regex_find_all),
)
