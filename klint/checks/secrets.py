"""Credentials in configuration: literal secrets in env vars, ConfigMaps and annotations,
Secret objects committed with data, and Secrets exposed as env vars.

Two kinds of evidence, never the secret itself in a message:

* a value in a known token format (AWS access key id, GitHub/GitLab/Slack/Stripe/Google
  tokens, PEM private keys, JWTs, URLs with ``user:password@``), anywhere;
* a credential-like *name* (``PASSWORD``, ``TOKEN``, ``SECRET``, ``API_KEY`` ...). For env
  vars any literal value counts (a hard-coded ``changeme`` is still a hard-coded password),
  except references and placeholders (``$(VAR)``, ``${VAR}``, ``{{ }}``, ``<...>``),
  booleans, numbers, durations, paths and URLs without credentials. For ConfigMap keys,
  ``key: value`` lines inside ConfigMap files and annotations the value must also look
  random (length and entropy), since these hold far more non-secret settings -- unless the
  name says credential and nothing else (``db_password``, ``aws_secret_access_key``): then
  any literal counts there too.

Every pattern runs in linear time on hostile input: repetitions are bounded or a match may
start only where a run of its characters starts, so a megabyte value costs one pass, not
one pass per character (a 512 KB value once took 91 s in the URL pattern).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.model import containers, pod_view
from klint.model.resource import Resource

TOKEN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
        ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("a Slack token", r"\bxox[abposr]-[0-9A-Za-z-]{10,}"),
        ("a Slack webhook URL", r"hooks\.slack\.com/services/T[0-9A-Z]+/B[0-9A-Z]+/[0-9A-Za-z]+"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("a Stripe live key", r"\b[rs]k_live_[0-9A-Za-z]{20,}"),
        ("a SendGrid API key", r"\bSG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}\b"),
        ("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        # PEM and PGP headers, malformed ones too (dashes missing, extra spaces).
        (
            "a private key",
            r"(?<!-)-{2,}[ \t]*BEGIN[ \t]+(?:[A-Z0-9]{1,16}[ \t]+){0,4}PRIVATE[ \t]+KEY",
        ),
        (
            "a JSON Web Token",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        ),
        (
            "a URL with an embedded password",
            r"(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^\s:/@'\"]{1,256}:"
            r"(?!\$\(|\$\{|\{\{|<|\*+@|x+@|\$)[^\s/@'\"]{1,256}@[^\s]",
        ),
    )
)

CREDENTIAL_NAME = re.compile(
    r"(?i)(passw(?:or)?d|passwd|passphrase|(?:^|[_.-])pwd$|(?:^|[_.-])pass$|secret|token|"
    r"api[_.-]?key|apikey|private[_.-]?key|access[_.-]?key|credential|auth[_.-]?key|bearer|"
    r"signing[_.-]?key|encryption[_.-]?key|master[_.-]?key|session[_.-]?key|"
    r"account[_.-]?key|storage[_.-]?key|shared[_.-]?key|^azure[_.-].*key$|key[_.-]?content)"
)
# A credential word followed by one of these names a setting about the credential.
NOT_A_VALUE = re.compile(
    r"(?i)[_.-]?(file|files|path|dir|name|names|ref|url|uri|endpoint|host|port|ttl|timeout|"
    r"expiry|expiration|expires|length|len|size|enabled|enable|disabled|required|type|mode|"
    r"header|version|id|count|interval|duration|lifetime|max|min|policy|format|location|"
    r"mount|namespace|provider|source|store|backend|algorithm|issuer|audience|scope|scopes|"
    r"cache|refresh|user|username|field|prefix|suffix|template|kind|key_?ref|selector|"
    r"volume|annotation|label|length_?min|strength|rotation|hash_?algorithm|seconds|days|"
    r"hours|minutes|ms|env|config|secret_?name|helpers?|plugins?|providers|methods?|"
    r"handlers?|managers?|strategy|chain|options|settings|types|modes|sources|stores)$"
)
# Name endings that mean a credential and nothing else (after camelCase and ``.``/``-`` are
# folded to ``_``): any literal under such a name counts, random-looking or not.
DEFINITE_CREDENTIAL_ENDINGS = (
    "password",
    "passwd",
    "secret_access_key",
    "secret_key",
    "private_key",
    "client_secret",
    "api_key",
    "apikey",
    "access_token",
    "auth_token",
    "api_token",
    "bearer_token",
    "passphrase",
    "pass",
    "account_key",
    "storage_key",
    "key_content",
)
# Cloud credential names of the form ``AZURE_<SERVICE>_KEY`` (``AZURE_BATCH_KEY``).
DEFINITE_CREDENTIAL_PATTERN = re.compile(r"^azure_[a-z0-9_]*key$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Checksums of Secrets (e.g. Helm's ``checksum/secret`` annotations) are not secrets.
DIGEST_NAME = re.compile(r"(?i)(checksum|hash|digest|sha[0-9]*\b|fingerprint)")
# References and placeholders, the same for every name: ``$(VAR)``, ``{{ }}``, ``<value>``,
# ``%VAR%`` and a mask (``*****``). A dummy such as ``xxxxx`` is a literal: under a name
# that can only mean a credential it says the real secret goes in that place (Polaris's
# ``sensitiveConfigmapContent`` fixtures), for AWS, Azure and OCI names alike.
PLACEHOLDER = re.compile(r"\$\(|\$\{|\{\{|\}\}|^<.*>$|^%.*%$|^\*+$")
NON_SECRET_VALUE = re.compile(
    r"(?i)^(true|false|yes|no|on|off|y|n|enabled?|disabled?|none|null|nil|-|"
    r"[0-9]+(\.[0-9]+)?[a-z]{0,2}|auto|default|optional|required)$"
)
# Settings of widely deployed software whose names say token but whose values are not
# credentials: etcd's ``--auth-token`` names the token provider and its options
# (``jwt,priv-key=/path,sign-method=RS256``), ``--initial-cluster-token`` the cluster's
# identity (bitnami's etcd chart sets both as ``ETCD_*`` variables).
KNOWN_SETTINGS = re.compile(
    r"(?i)^(?:etcd_auth_token|etcd_initial_cluster_token|initial-cluster-token)$"
)
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_FLAG = re.compile(r"^--?([A-Za-z0-9_.-]+)=(\S+)$")
_FILE_LINE = re.compile(r"""^\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^\s"',]+)["']?,?\s*$""")


# Literal text every match of a format contains: a substring test (fast, in C) decides
# whether the regex (slow on megabytes of dashboards, as ``\b`` defeats prefix search) runs.
_TOKEN_HINTS: dict[str, tuple[str, ...]] = {
    "an AWS access key id": ("AKIA", "ASIA"),
    "a GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "a GitLab token": ("glpat-",),
    "a Slack token": ("xox",),
    "a Slack webhook URL": ("hooks.slack.com",),
    "a Google API key": ("AIza",),
    "a Stripe live key": ("k_live_",),
    "a SendGrid API key": ("SG.",),
    "an npm token": ("npm_",),
    "a private key": ("PRIVATE",),
    "a JSON Web Token": ("eyJ",),
    "a URL with an embedded password": ("://",),
}


def token_format(value: str) -> str | None:
    """The label of the first known token format found in ``value``, if any."""
    for label, pattern in TOKEN_FORMATS:
        hints = _TOKEN_HINTS.get(label)
        if hints is not None and not any(hint in value for hint in hints):
            continue
        if pattern.search(value):
            return label
    return None


def credential_name(name: str) -> bool:
    """Whether a variable or key name says it holds a credential (not a digest of one)."""
    return (
        bool(CREDENTIAL_NAME.search(name))
        and not NOT_A_VALUE.search(name)
        and not DIGEST_NAME.search(name)
        and not KNOWN_SETTINGS.match(name)
    )


def definite_credential_name(name: str) -> bool:
    """Whether a name can only mean a credential (``db_password``, ``awsSecretAccessKey``)."""
    if len(name) > 256 or not credential_name(name):
        return False
    folded = _CAMEL.sub("_", name).lower().replace("-", "_").replace(".", "_")
    return bool(DEFINITE_CREDENTIAL_PATTERN.match(folded)) or any(
        folded == ending or folded.endswith("_" + ending) for ending in DEFINITE_CREDENTIAL_ENDINGS
    )


def _credential_value(name: str, value: str) -> bool:
    """A random-looking value under a credential name, or any literal under a definite one
    (not the name of a Secret object under a name whose credential word is ``secret``:
    ``pluginClientSecret: barman-cloud-client-tls``)."""
    if not credential_name(name):
        return False
    if _SECRET_OBJECT.fullmatch(value.strip()) and not credential_name(_SECRET_WORD.sub("", name)):
        return False
    return looks_random(value) or (definite_credential_name(name) and literal_value(value))


def _literal_credential(name: str, value: str) -> bool:
    """An env var or flag set to a credential: any literal under a credential name, except
    where ``secret`` is its only credential word (``--tls-secret=agent-tls``,
    ``WEBHOOK_SECRET=webhook-cert``: in Kubernetes usually the name of a Secret object),
    which needs a definite name (``client_secret``) or a random-looking value."""
    if not credential_name(name) or not literal_value(value):
        return False
    if credential_name(_SECRET_WORD.sub("", name)):
        return True
    return _credential_value(name, value)


_SECRET_WORD = re.compile(r"(?i)secret")
# The name of a Secret object, as Kubernetes names them: ``webhook-tls``, ``db-credentials``.
_SECRET_OBJECT = re.compile(
    r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?-(?:tls|secrets?|certs?|certificates?|credentials|creds|keys?)"
)


def literal_value(value: str) -> bool:
    """Whether a value is a literal (not a reference, placeholder, flag, number or path)."""
    text = value.strip()
    if not text or PLACEHOLDER.search(text) or NON_SECRET_VALUE.match(text):
        return False
    if text.startswith(("/", "./", "~/", "file:", "vault:", "arn:", "secret:", "ref+")):
        return False
    return not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", text) or token_format(text) is not None


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(value: str, min_length: int = 12, min_entropy: float = 3.0) -> bool:
    """A single token that looks generated: long, mixed letters and digits, high entropy."""
    text = value.strip()
    if len(text) < min_length or re.search(r"\s", text) or not literal_value(text):
        return False
    if not (re.search(r"[A-Za-z]", text) and re.search(r"[0-9]", text)):
        return False
    if re.fullmatch(r"[a-z]+(?:[-_.][a-z0-9]+)+", text):  # kebab/snake identifiers
        return False
    return entropy(text) >= min_entropy


def _env_findings(env: Any) -> Iterator[tuple[int, str, str]]:
    """(index, name, why) of env entries whose literal value looks like a credential."""
    for index, item in enumerate(env if isinstance(env, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            continue
        name, value = str(item.get("name", index)), item["value"]
        label = token_format(value)
        if label is not None:
            yield index, name, f"contains what looks like {label}"
        elif _literal_credential(name, value):
            yield index, name, "is set to a literal credential"


def _argument_finding(argument: str) -> str | None:
    """Why a command-line argument carries a credential (``--password=x``, a token)."""
    label = token_format(argument)
    if label is not None:
        return f"contains what looks like {label}"
    match = _FLAG.match(argument)
    if match and _literal_credential(match.group(1), match.group(2)):
        return f"passes a literal credential to {match.group(1)}"
    return None


def env_literal_credential(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Container env vars and arguments whose literal value looks like a credential."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        for index, name, why in _env_findings(container.data.get("env")):
            yield Violation(
                (*container.path, "env", index, "value"),
                f"{container.label} env var {name} {why}: use a Secret (valueFrom.secretKeyRef).",
            )
        for field in ("command", "args"):
            arguments = container.data.get(field)
            for index, argument in enumerate(arguments if isinstance(arguments, list) else []):
                reason = _argument_finding(argument) if isinstance(argument, str) else None
                if reason is not None:
                    yield Violation(
                        (*container.path, field, index),
                        f"{container.label} {field}[{index}] {reason}: read it from a Secret.",
                    )


def _text_findings(key: str, value: str) -> str | None:
    """Why a key/value pair of a ConfigMap or annotation holds a credential, or None."""
    label = token_format(value)
    if label is not None:
        return f"contains what looks like {label}"
    if "\n" not in value.strip():
        if _credential_value(key, value):
            return "holds a literal value under a credential name"
        return None
    for number, line in enumerate(value.splitlines(), start=1):
        match = _FILE_LINE.match(line)
        if match and _credential_value(match.group(1), match.group(2)):
            return f"sets {match.group(1)} to a literal value on line {number} of it"
    return None


def configmap_credential(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """ConfigMap data entries that hold credentials."""
    if resource.kind != "ConfigMap" or resource.group != "":
        return
    data = resource.data.get("data")
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        why = _text_findings(str(key), value)
        if why is not None:
            yield Violation(("data", key), f'ConfigMap key "{key}" {why}: store it in a Secret.')


def annotation_credential(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Annotations (object and pod template) that hold credentials."""
    places: list[tuple[tuple[str | int, ...], Any]] = [
        (("metadata", "annotations"), resource.metadata.get("annotations"))
    ]
    pod = pod_view(resource)
    if pod is not None:
        places.append(((*pod.metadata_path, "annotations"), pod.metadata.get("annotations")))
    for path, mapping in places:
        if not isinstance(mapping, dict):
            continue
        for key, value in mapping.items():
            if key == LAST_APPLIED or not isinstance(value, str):
                continue
            why = _text_findings(str(key), value)
            if why is not None:
                yield Violation((*path, key), f'annotation "{key}" {why}.')


def secret_with_data(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Secret objects that carry ``data`` or ``stringData`` in the manifest.

    Secrets rendered from a Helm chart (``app.kubernetes.io/managed-by: Helm`` or a
    ``helm.sh/chart`` label) are skipped: their data comes from values or is generated at
    install time, not committed.
    """
    if resource.kind != "Secret" or resource.group != "":
        return
    labels = resource.labels
    if labels.get("app.kubernetes.io/managed-by") == "Helm" or "helm.sh/chart" in labels:
        return
    for key in ("data", "stringData"):
        value = resource.data.get(key)
        if isinstance(value, dict) and value:
            keys = ", ".join(sorted(str(k) for k in value)[:5])
            more = ", ..." if len(value) > 5 else ""
            yield Violation(
                (key,),
                f"Secret stores {len(value)} value(s) in {key} ({keys}{more}) in the manifest.",
            )


def secret_env_var(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Secrets exposed to containers as environment variables."""
    pod = pod_view(resource)
    if pod is None:
        return
    for container in containers(pod):
        env = container.data.get("env")
        for index, item in enumerate(env if isinstance(env, list) else []):
            ref = item.get("valueFrom", {}) if isinstance(item, dict) else None
            if isinstance(ref, dict) and isinstance(ref.get("secretKeyRef"), dict):
                secret = ref["secretKeyRef"].get("name", "?")
                yield Violation(
                    (*container.path, "env", index, "valueFrom", "secretKeyRef"),
                    f'{container.label} reads Secret "{secret}" into env var '
                    f"{item.get('name', index)}.",
                )
        env_from = container.data.get("envFrom")
        for index, item in enumerate(env_from if isinstance(env_from, list) else []):
            if isinstance(item, dict) and isinstance(item.get("secretRef"), dict):
                secret = item["secretRef"].get("name", "?")
                yield Violation(
                    (*container.path, "envFrom", index, "secretRef"),
                    f'{container.label} loads every key of Secret "{secret}" into env vars.',
                )


CHECKS = (
    Check(
        "env-literal-credential",
        env_literal_credential,
        "Credentials written literally in container env vars.",
    ),
    Check("configmap-credential", configmap_credential, "Credentials stored in ConfigMaps."),
    Check("annotation-credential", annotation_credential, "Credentials stored in annotations."),
    Check("secret-with-data", secret_with_data, "Secret objects committed with their data."),
    Check("secret-env-var", secret_env_var, "Secrets exposed as environment variables."),
)
