"""Shape complaints for display (web and API alike), masking personal data by role."""

from kuaixiang.complaints.actions import LABELS
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import STATUS_LABELS, Complaint
from kuaixiang.complaints.phone import mask_phone
from kuaixiang.org.roles import PHONE_VISIBLE_ROLES

SUMMARY_CHARS = 80


def _ref(pk, name):
    return {"id": pk, "name": name} if pk else None


def person_name(user) -> str:
    """Chinese order, family name first (王丽), as ``list_item`` shows assignees; else the username."""
    return f"{user.last_name}{user.first_name}".strip() or user.username


def _person(user) -> dict | None:
    return {"id": user.pk, "name": person_name(user)} if user else None


def phone_for(role: str, phone: str) -> str:
    return phone if role in PHONE_VISIBLE_ROLES else mask_phone(phone)


def list_item(row: dict, role: str) -> dict:
    """Turn one ``selectors.LIST_FIELDS`` row into the list shape."""
    assignee = None
    if row["assignee__id"]:
        name = f"{row['assignee__last_name']}{row['assignee__first_name']}" or row["assignee__username"]
        assignee = {"id": row["assignee__id"], "name": name}
    description = row["description"]
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "status_label": str(STATUS_LABELS[State(row["status"])]),
        "channel": row["channel"],
        "severity": row["severity"],
        "intent": row["intent"],
        "request_type": row["request_type"],
        "validity": row["validity"],
        "flags": row["flags"],
        "repeat_of_id": row["repeat_of_id"],
        "duplicate_of_id": row["duplicate_of_id"],
        "complainant_name": "匿名" if row["anonymous"] and not row["complainant_name"] else row["complainant_name"],
        "complainant_phone": phone_for(role, row["complainant_phone"]),
        "subject": row["subject"],
        "summary": description[:SUMMARY_CHARS] + ("…" if len(description) > SUMMARY_CHARS else ""),
        "received_at": row["received_at"],
        "due_at": row["due_at"],
        "category": _ref(row["category__id"], row["category__full_name"]),
        "department": _ref(row["department__id"], row["department__name"]),
        "assignee": assignee,
    }


def event_item(event) -> dict:
    return {
        "id": event.pk,
        "at": event.at,
        "action": event.action,
        "action_label": str(LABELS.get(event.action, event.action)),
        "actor": _person(event.actor),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "payload": event.payload,
    }


def stage_item(stage) -> dict:
    return {
        "stage": stage.stage,
        "stage_label": stage.get_stage_display(),
        "started_at": stage.started_at,
        "due_at": stage.due_at,
        "warn_at": stage.warn_at,
        "paused_seconds": stage.paused_seconds,
        "paused": stage.paused_at is not None,
        "completed_at": stage.completed_at,
        "breached": stage.breached,
        "escalation_level": stage.escalation_level,
        "calendar_error": stage.calendar_error,
    }


def detail(
    complaint: Complaint, *, role: str, allowed: list[str], timeline: list, attachments: list, stages: list = ()
) -> dict:
    c = complaint
    return {
        "id": c.pk,
        "number": c.number,
        "status": c.status,
        "status_label": str(STATUS_LABELS[c.state]),
        "channel": c.channel,
        "external_id": c.external_id,
        "severity": c.severity,
        "intent": c.intent,
        "request_type": c.request_type,
        "validity": c.validity,
        "validity_reason": c.validity_reason,
        "flags": c.flags,
        "repeat_of": _ref(c.repeat_of_id, c.grading.get("repeat_of") or ""),
        "duplicate_of": _ref(c.duplicate_of_id, c.grading.get("duplicate_of") or ""),
        "grading": c.grading,
        "anonymous": c.anonymous,
        "complainant_name": c.complainant_name,
        "complainant_phone": phone_for(role, c.complainant_phone),
        "received_at": c.received_at,
        "place": c.place,
        "subject": c.subject,
        "description": c.description,
        "appeal": c.appeal,
        "amount_claimed": c.amount_claimed,
        "extra": c.extra,
        "category": _ref(c.category_id, c.category.full_name if c.category_id else ""),
        "intake_department": _ref(c.intake_department_id, c.intake_department.name),
        "department": _ref(c.department_id, c.department.name if c.department_id else ""),
        "assignee": _person(c.assignee),
        "merged_into": _ref(c.merged_into_id, c.merged_into.number if c.merged_into_id else ""),
        "refuse_reason": c.refuse_reason,
        "findings": c.findings,
        "solution": c.solution,
        "reply_content": c.reply_content,
        "satisfaction": c.satisfaction,
        "solved": c.solved,
        "reopen_count": c.reopen_count,
        "reconsider_count": c.reconsider_count,
        "due_at": c.due_at,
        "created_at": c.created_at,
        "accepted_at": c.accepted_at,
        "dispatched_at": c.dispatched_at,
        "replied_at": c.replied_at,
        "closed_at": c.closed_at,
        "allowed_actions": allowed,
        "stages": [stage_item(s) for s in stages],
        "timeline": [event_item(e) for e in timeline],
        "attachments": [
            {"id": a.pk, "name": a.name, "size": a.size, "content_type": a.content_type, "uploaded_at": a.uploaded_at}
            for a in attachments
        ],
    }
