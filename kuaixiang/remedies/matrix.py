"""The authority matrix as the services read it, and its append-only change log."""

from decimal import Decimal

from django.db import transaction
from django.forms.models import model_to_dict

from kuaixiang import clock
from kuaixiang.org.models import Department
from kuaixiang.remedies.authority import Limit
from kuaixiang.remedies.models import AuthorityChange, AuthorityRule, AuthoritySettings, ChainTemplate


def _applies(rule: AuthorityRule, department: Department) -> bool:
    return rule.department_id is None or department.path.startswith(rule.department.path)


def _depth(rule: AuthorityRule) -> int:
    return rule.department.depth if rule.department_id else 0


def limits_for(remedy_type: str, department: Department) -> dict[str, Limit]:
    """Each role's limit for ``remedy_type`` at ``department``: the deepest rule whose department
    contains it wins over a general rule (department empty). Roles absent may decide nothing alone."""
    chosen: dict[str, AuthorityRule] = {}
    rules = AuthorityRule.objects.filter(remedy_type=remedy_type, active=True).select_related("department")
    for rule in rules:
        if not _applies(rule, department):
            continue
        current = chosen.get(rule.role)
        if current is None or _depth(rule) > _depth(current):
            chosen[rule.role] = rule
    return {
        role: Limit(role, rule.per_complaint, rule.per_month, rule.policy_exception) for role, rule in chosen.items()
    }


def chain_template_for(remedy_type: str, amount: Decimal) -> ChainTemplate | None:
    """The active template with the highest ``above`` that ``amount`` exceeds, for this type."""
    for template in ChainTemplate.objects.filter(active=True, above__lt=amount).prefetch_related("steps"):
        if not template.remedy_types or remedy_type in template.remedy_types:
            return template
    return None


def settings_get() -> AuthoritySettings:
    """The single settings row (defaults when the rule pack has not set it)."""
    row = AuthoritySettings.objects.order_by("pk").first()
    return row if row is not None else AuthoritySettings()


def snapshot(instance) -> dict:
    """JSON-safe field values of a matrix row (for the change log)."""
    data = model_to_dict(instance)
    data["id"] = instance.pk
    return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in data.items()}


def authority_change_log(*, actor, source: str, instance, action: str, before: dict | None) -> AuthorityChange:
    """Append one change row (``create`` / ``update`` / ``delete``) with the state before and after."""
    # The stored row, not the instance: "120" typed in a form is stored (and shown) as "120.00".
    after = None if action == "delete" else snapshot(type(instance).objects.get(pk=instance.pk))
    known = actor if getattr(actor, "pk", None) else None
    return AuthorityChange.objects.create(
        at=clock.now(),
        actor=known,
        actor_name=(known.get_full_name() or known.username) if known else "",
        source=source[:200],
        model=type(instance).__name__,
        object_id=instance.pk,
        action=action,
        before=before,
        after=after,
    )


@transaction.atomic
def matrix_row_save(*, actor, instance, source: str = "admin") -> None:
    """Save a matrix row (rule, chain template, step or settings) and log the change."""
    before = None
    if instance.pk is not None:
        old = type(instance).objects.filter(pk=instance.pk).first()
        before = snapshot(old) if old is not None else None
    instance.save()
    if before != snapshot(type(instance).objects.get(pk=instance.pk)):
        authority_change_log(
            actor=actor, source=source, instance=instance, action="update" if before else "create", before=before
        )


@transaction.atomic
def matrix_row_delete(*, actor, instance, source: str = "admin") -> None:
    before = snapshot(instance)
    pk = instance.pk
    instance.delete()
    instance.pk = pk
    authority_change_log(actor=actor, source=source, instance=instance, action="delete", before=before)
