"""A careful evaluator of IAM policy documents, for the tests of the policies in iam/ that hang on conditions.

It follows the IAM user guide ("Policy evaluation logic", "IAM JSON policy elements: Condition operators",
"Single-valued vs. multivalued context keys") for what those policies use, and refuses what it does not model
rather than guess:
- Action/NotAction (case-insensitive, `*` and `?`), Resource/NotResource (case-sensitive, `*` and `?`);
- explicit Deny beats Allow; nothing allowed is an implicit deny;
- a condition block holds when every operator holds, an operator when every key holds, a key when any of its
  policy values matches; condition key names are case-insensitive, values case-sensitive (but *IgnoreCase);
- a key missing from the request: a positive operator is false, a negated one (StringNot…, ArnNot…) true,
  `…IfExists` true; `Null` tests presence;
- multivalued keys (aws:TagKeys) need ForAnyValue (true when some request value matches; false when the key
  is missing or empty) or ForAllValues (true when every request value matches; true when missing or empty);
- policy variables (`${…}`) and operators not listed raise, so a policy that uses one is not checked by guesswork.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

Context = Mapping[str, str | Sequence[str]]
ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"
# Context keys that are multivalued (IAM user guide, "Single-valued vs. multivalued context keys").
MULTIVALUED = {"aws:tagkeys"}
_STRING_OPS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
               "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool"}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def _as_list(value: Any) -> list:
    return [value] if isinstance(value, str | bool) else list(value)


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _arn_match(pattern: str, value: str) -> bool:
    """ArnLike: the six `:`-separated parts match one by one (the resource part keeps its own colons)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    return len(pattern_parts) == len(value_parts) == 6 and all(
        _wildcard(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _one(operator: str, policy_value: str, value: str) -> bool:
    """The positive form of `operator` for one request value against one policy value."""
    base = operator.replace("Not", "", 1) if operator in _NEGATED else operator
    if base == "StringEquals":
        return value == policy_value
    if base == "StringEqualsIgnoreCase":
        return value.lower() == policy_value.lower()
    if base == "StringLike":
        return _wildcard(policy_value, value)
    if base == "ArnEquals":
        return value == policy_value
    if base == "ArnLike":
        return _arn_match(policy_value, value)
    if base == "Bool":
        return value.lower() == str(policy_value).lower()
    raise ValueError(f"condition operator {operator} is not modelled")


def _lookup(context: Context, key: str) -> Any:
    wanted = key.lower()
    return next((value for name, value in context.items() if name.lower() == wanted), None)


def _key_holds(qualified: str, key: str, policy_values: list, context: Context) -> bool:
    qualifier, _, operator = qualified.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    for value in policy_values:
        if "${" in str(value):
            raise ValueError(f"policy variable in {value!r} is not modelled")
    request = _lookup(context, key)
    if operator == "Null":
        (expected,) = {str(v).lower() for v in policy_values}
        return (request is None) == (expected == "true")
    if operator not in _STRING_OPS:
        raise ValueError(f"condition operator {operator} is not modelled")
    negated = operator in _NEGATED
    if key.lower() in MULTIVALUED and not qualifier:
        raise ValueError(f"{key} is multivalued: use ForAnyValue: or ForAllValues: with {operator}")
    if qualifier and qualifier not in ("ForAnyValue", "ForAllValues"):
        raise ValueError(f"set operator {qualifier} is not modelled")
    if request is None:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated
    values = _as_list(request)
    if not qualifier and len(values) != 1:
        raise ValueError(f"{key} is single-valued, the request gives {values!r}")

    def matches(value: str) -> bool:
        hit = any(_one(operator, str(policy), str(value)) for policy in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(matches(v) for v in values)
    return any(matches(v) for v in values)


def conditions_hold(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    return all(_key_holds(operator, key, _as_list(values), context)
               for operator, keys in condition.items() for key, values in keys.items())


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError("resource-based policies (Principal) are not modelled")
    if "Action" in statement:
        acts = any(_wildcard(p, action, ignore_case=True) for p in _as_list(statement["Action"]))
    else:
        acts = not any(_wildcard(p, action, ignore_case=True) for p in _as_list(statement["NotAction"]))
    if "Resource" in statement:
        on = any(_wildcard(p, resource) for p in _as_list(statement["Resource"]))
    else:
        on = not any(_wildcard(p, resource) for p in _as_list(statement["NotResource"]))
    return acts and on and conditions_hold(statement.get("Condition") or {}, context)


def evaluate(statements: Sequence[Mapping[str, Any]], action: str, resource: str, context: Context) -> str:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY of one policy (its statements) for one request."""
    applying = [s for s in statements if _applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in applying):
        return EXPLICIT_DENY
    return ALLOW if any(s["Effect"] == "Allow" for s in applying) else IMPLICIT_DENY


def allowed(action: str, resource: str, context: Context, identity: Sequence[Mapping[str, Any]],
            *guards: Sequence[Mapping[str, Any]]) -> bool:
    """An identity-based policy's grant, within every guard (SCPs, a permissions boundary): each must allow it
    and none deny it (IAM user guide, "Policy evaluation logic" for one account)."""
    return all(evaluate(policy, action, resource, context) == ALLOW for policy in (identity, *guards))


def tag_context(principal_arn: str, tag_keys: Sequence[str] = (), request_tags: Mapping[str, str] | None = None
                ) -> dict[str, Any]:
    """The request context of a tag call: who calls, which keys it sets or removes, which tags it sends."""
    context: dict[str, Any] = {"aws:PrincipalArn": principal_arn}
    if tag_keys:
        context["aws:TagKeys"] = list(tag_keys)
    for key, value in (request_tags or {}).items():
        context[f"aws:RequestTag/{key}"] = value
    return context

