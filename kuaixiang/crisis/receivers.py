"""Signal receivers connected in ``CrisisConfig.ready``: warnings open incidents, new complaints join
the incidents they match, replies record the script version they used."""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def on_warning_raised(sender, warning, previous_level: int, now, **kwargs) -> None:
    """Inside the warning's transaction: if an active playbook's criteria are met, read the facts
    the incident needs and enqueue its opening for right after commit (a failure in the crisis app
    must not roll the warning back; the periodic sweep retries what the queue lost)."""
    from kuaixiang.crisis.services import WarningFacts, playbooks_matching

    rule_code = getattr(warning.rule, "code", "")
    if not playbooks_matching(level=warning.level, rule_code=rule_code):
        return
    from kuaixiang.alerts.models import WarningComplaint

    facts = WarningFacts(
        warning_id=warning.pk,
        level=warning.level,
        rule_code=rule_code,
        rule_name=getattr(warning.rule, "name", ""),
        category_id=warning.category_id,
        scope_label=warning.scope_label,
        sandbox=bool(warning.sandbox),
        flags=(),
        complaint_ids=tuple(WarningComplaint.objects.filter(warning=warning).values_list("complaint_id", flat=True)),
        unit_id=None,
        raised_at=now,
    )
    transaction.on_commit(lambda: _enqueue(facts), robust=True)


def _enqueue(facts) -> None:
    from kuaixiang.crisis.tasks import open_incidents_for_warning

    open_incidents_for_warning(facts)


def on_complaints_registered(sender, complaints, actor, now, **kwargs) -> None:
    """Link new complaints to the open incidents they match (cheap: one query when none is open)."""
    from kuaixiang.crisis.links import complaints_match

    complaints_match(complaints, now=now)


def on_complaint_transitioned(sender, complaint, action: str, before, actor, now, **kwargs) -> None:
    """A reply whose text is an incident's current script records that script version."""
    if action != "reply":
        return
    from kuaixiang.crisis.scripts import reply_recorded

    reply_recorded(complaint_id=complaint.pk, content=complaint.reply_content, now=now)
