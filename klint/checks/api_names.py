"""The name syntaxes of Kubernetes' apimachinery validation (``util/validation``).

Each function returns the problem with ``value`` (empty when it is valid), worded like the
API server's own message.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
MAX_ID = 2147483647


def dns1123_label(value: str) -> str:
    """IsDNS1123Label: container, volume and namespace names."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL.fullmatch(value):
        return (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
            "or '-', and must start and end with an alphanumeric character"
        )
    return ""


def dns1035_label(value: str) -> str:
    """IsDNS1035Label: Service names."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1035.fullmatch(value):
        return (
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            "start with an alphabetic character, and end with an alphanumeric character"
        )
    return ""


def dns1123_subdomain(value: str) -> str:
    """IsDNS1123Subdomain: the names of most kinds."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _SUBDOMAIN.fullmatch(value):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    return ""


def path_segment(value: str) -> str:
    """ValidatePathSegmentName: RBAC object names (``system:controller:x`` is fine)."""
    if value in (".", ".."):
        return f"may not be '{value}'"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain '{bad}'"
    return ""


def qualified_name(value: str) -> str:
    """IsQualifiedName: label and annotation keys (``prefix/name``)."""
    prefix, slash, name = value.rpartition("/")
    if slash and not prefix:
        return "prefix part must be non-empty"
    if slash and "/" in prefix:
        return "a qualified name must consist of an optional DNS subdomain prefix and a name"
    if slash:
        problem = dns1123_subdomain(prefix)
        if problem:
            return f"prefix part {problem}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED.fullmatch(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character"
        )
    return ""


def port_name(value: str) -> str:
    """IsValidPortName (IANA_SVC_NAME): at most 15 characters, at least one letter."""
    if len(value) > 15:
        return "must be no more than 15 characters"
    if not _PORT_NAME.fullmatch(value):
        return "must contain only lowercase alphanumeric characters or '-'"
    if "--" in value:
        return "must not contain consecutive hyphens"
    if not any(c.isalpha() for c in value):
        return "must contain at least one letter (a-z)"
    return ""


def port_number(value: object, *, zero: bool = False) -> str:
    """IsValidPortNum: 1-65535 (0 too where the field allows "unset")."""
    if isinstance(value, bool) or not isinstance(value, int):
        return ""  # the schema rules report non-integers
    low = 0 if zero else 1
    return "" if low <= value <= 65535 else f"must be between {low} and 65535, inclusive"


def user_id(value: object) -> str:
    """IsValidUserID / IsValidGroupID: 0 to 2147483647."""
    if isinstance(value, bool) or not isinstance(value, int):
        return ""
    return "" if 0 <= value <= MAX_ID else f"must be between 0 and {MAX_ID}, inclusive"


def env_var_name(value: str) -> str:
    """IsRelaxedEnvVarName (the default since 1.34): printable ASCII other than ``=``."""
    if not value:
        return "must not be empty"
    if "=" in value:
        return "must not contain '='"
    if not all(" " <= char <= "~" for char in value):
        return "must consist only of printable ASCII characters"
    return ""


def wildcard_host(value: str) -> str:
    """IsWildcardDNS1123Subdomain / IsDNS1123Subdomain for Ingress hosts."""
    if "*" in value:
        rest = value[2:] if value.startswith("*.") else ""
        if not rest or "*" in rest or dns1123_subdomain(rest):
            return (
                "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid "
                "DNS subdomain (the wildcard may only be the whole first label)"
            )
        return ""
    return dns1123_subdomain(value)
