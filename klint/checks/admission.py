"""Admission webhook configurations: fail-open security webhooks, lock-down risk, side
effects and plain-HTTP endpoints.

Defaults follow the API version: in ``admissionregistration.k8s.io/v1`` an unset
``failurePolicy`` is ``Fail``; in ``v1beta1`` it is ``Ignore`` and an unset ``sideEffects``
is ``Unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from klint.checks.base import Check, Params, UnitContext, Violation
from klint.checks.rbac import selector_matches
from klint.checks.rbac_rules import ADMISSION_GROUP
from klint.model.resource import Resource

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
# The only label kube-system carries by default (set by the API server since 1.21).
KUBE_SYSTEM_LABELS = {"kubernetes.io/metadata.name": "kube-system"}
# API groups of the namespaced objects that control-plane add-ons in kube-system create.
SYSTEM_GROUPS = frozenset(
    {
        "*",
        "",
        "apps",
        "batch",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
    }
)
WORKLOAD_RESOURCES = frozenset(
    {
        "*",
        "*/*",
        "pods",
        "deployments",
        "daemonsets",
        "statefulsets",
        "replicasets",
        "jobs",
        "cronjobs",
        "replicationcontrollers",
    }
)


def webhooks(resource: Resource) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each webhook of a webhook configuration, with its index."""
    if resource.group != ADMISSION_GROUP or resource.kind not in WEBHOOK_KINDS:
        return
    items = resource.data.get("webhooks")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def _is_v1beta1(resource: Resource) -> bool:
    return resource.api_version.endswith("/v1beta1")


def failure_policy(resource: Resource, webhook: dict[str, Any]) -> str:
    """The effective failurePolicy, with the API version's default."""
    value = webhook.get("failurePolicy")
    if isinstance(value, str):
        return value
    return "Ignore" if _is_v1beta1(resource) else "Fail"


def _rules(webhook: dict[str, Any]) -> Iterator[dict[str, Any]]:
    rules = webhook.get("rules")
    if isinstance(rules, list):
        yield from (rule for rule in rules if isinstance(rule, dict))


def _strings(value: Any) -> set[str]:
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


def _covers_workloads(webhook: dict[str, Any]) -> bool:
    for rule in _rules(webhook):
        groups = _strings(rule.get("apiGroups"))
        if groups & {"*", "", "apps", "batch", "extensions"} and (
            _strings(rule.get("resources")) & WORKLOAD_RESOURCES
        ):
            return True
    return False


def _names(resource: Resource, webhook: dict[str, Any]) -> str:
    service = webhook.get("clientConfig")
    service_name = ""
    if isinstance(service, dict) and isinstance(service.get("service"), dict):
        service_name = str(service["service"].get("name") or "")
    return " ".join((resource.name, str(webhook.get("name") or ""), service_name)).lower()


def fail_open_security_webhook(
    resource: Resource, _: UnitContext, params: Params
) -> Iterator[Violation]:
    """Security webhooks whose effective failurePolicy is Ignore.

    A webhook counts as a security webhook when it validates pods or workload
    controllers, or when its configuration, webhook or service name contains one of the
    ``keywords`` (policy engines such as Gatekeeper or Kyverno).
    """
    pattern = re.compile("|".join(re.escape(str(k).lower()) for k in params["keywords"]))
    validating = resource.kind == "ValidatingWebhookConfiguration"
    for index, webhook in webhooks(resource):
        if failure_policy(resource, webhook) != "Ignore":
            continue
        named = pattern.search(_names(resource, webhook))
        if not named and not (validating and _covers_workloads(webhook)):
            continue
        how = (
            "sets failurePolicy to Ignore"
            if "failurePolicy" in webhook
            else ("defaults to failurePolicy Ignore (v1beta1)")
        )
        yield Violation(
            ("webhooks", index, "failurePolicy"),
            f'webhook "{webhook.get("name", index)}" {how}: requests are admitted '
            "unchecked whenever the webhook is unavailable.",
        )


def _covers_system_objects(webhook: dict[str, Any]) -> bool:
    for rule in _rules(webhook):
        if rule.get("scope") == "Cluster":
            continue
        if _strings(rule.get("apiGroups")) & SYSTEM_GROUPS and _strings(rule.get("resources")):
            return True
    return False


def webhook_covers_kube_system(
    resource: Resource, _: UnitContext, __: Params
) -> Iterator[Violation]:
    """Fail-closed webhooks whose selectors would match kube-system objects.

    The namespaceSelector is evaluated against the labels kube-system has by default
    (only ``kubernetes.io/metadata.name``) and the objectSelector against an unlabelled
    object; only rules over namespaced objects of core/system API groups count.
    """
    for index, webhook in webhooks(resource):
        if failure_policy(resource, webhook) != "Fail" or not _covers_system_objects(webhook):
            continue
        if not selector_matches(webhook.get("namespaceSelector"), KUBE_SYSTEM_LABELS):
            continue
        if not selector_matches(webhook.get("objectSelector"), {}):
            continue
        yield Violation(
            ("webhooks", index, "namespaceSelector"),
            f'webhook "{webhook.get("name", index)}" fails closed and its namespaceSelector '
            "does not exclude kube-system: if the webhook is down, system pods cannot be "
            "created.",
        )


def webhook_side_effects(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Webhooks whose sideEffects are Unknown or Some (or unset)."""
    for index, webhook in webhooks(resource):
        value = webhook.get("sideEffects")
        if value in ("None", "NoneOnDryRun"):
            continue
        if value is None:
            text = "does not set sideEffects" + (
                " (v1beta1 defaults to Unknown)" if _is_v1beta1(resource) else ""
            )
        else:
            text = f"declares sideEffects {value}"
        yield Violation(
            ("webhooks", index, "sideEffects"),
            f'webhook "{webhook.get("name", index)}" {text}: dry-run requests are rejected '
            "and side effects may persist for requests that are later denied.",
        )


def webhook_plain_http(resource: Resource, _: UnitContext, __: Params) -> Iterator[Violation]:
    """Webhooks called through an ``http://`` URL."""
    for index, webhook in webhooks(resource):
        url = (
            webhook.get("clientConfig", {}).get("url")
            if isinstance(webhook.get("clientConfig"), dict)
            else None
        )
        if isinstance(url, str) and url.strip().lower().startswith("http://"):
            yield Violation(
                ("webhooks", index, "clientConfig", "url"),
                f'webhook "{webhook.get("name", index)}" sends admission requests over plain '
                f"HTTP to {url.strip()}.",
            )


CHECKS = (
    Check(
        "webhook-fail-open",
        fail_open_security_webhook,
        "Security webhooks that fail open.",
        {
            "type": "object",
            "required": ["keywords"],
            "additionalProperties": False,
            "properties": {
                "keywords": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "minItems": 1,
                }
            },
        },
    ),
    Check(
        "webhook-covers-kube-system",
        webhook_covers_kube_system,
        "Fail-closed webhooks that do not exclude kube-system.",
    ),
    Check("webhook-side-effects", webhook_side_effects, "Webhooks with unknown side effects."),
    Check("webhook-plain-http", webhook_plain_http, "Webhooks called over plain HTTP."),
)
