"""Remedies, steps and 8D reports as plain dicts for the API."""

from kuaixiang.remedies.models import ApprovalStep, EightD, Remedy, RemedyEvent


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.username}


def step_item(step: ApprovalStep) -> dict:
    return {
        "round": step.round,
        "order": step.order,
        "role": step.role,
        "role_label": str(step.get_role_display()),
        "place": {"id": step.place_id, "name": step.place.name},
        "state": step.state,
        "state_label": str(step.get_state_display()),
        "approvers": [person(u) for u in step.approvers.all()],
        "started_at": step.started_at,
        "due_at": step.due_at,
        "escalation_level": step.escalation_level,
        "decided_by": person(step.decided_by),
        "on_behalf_of": person(step.on_behalf_of),
        "decided_at": step.decided_at,
        "comment": step.comment,
    }


def event_item(event: RemedyEvent) -> dict:
    return {
        "at": event.at,
        "action": event.action,
        "actor": person(event.actor),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "comment": event.comment,
        "payload": event.payload,
    }


def remedy_item(remedy: Remedy) -> dict:
    """The remedy with its chain (every round, in order) and timeline; expects ``remedy_detail``'s lists."""
    return {
        "id": remedy.pk,
        "complaint": {"id": remedy.complaint_id, "number": remedy.complaint.number},
        "type": remedy.type,
        "type_label": str(remedy.get_type_display()),
        "amount": remedy.amount,
        "responsibility": remedy.responsibility,
        "responsibility_label": str(remedy.get_responsibility_display()),
        "justification": remedy.justification,
        "policy_exception": remedy.policy_exception,
        "state": remedy.state,
        "state_label": str(remedy.get_state_display()),
        "self_approved": remedy.self_approved,
        "round": remedy.round,
        "chain_name": remedy.chain_name,
        "requested_by": person(remedy.requested_by),
        "created_at": remedy.created_at,
        "decided_at": remedy.decided_at,
        "executed_at": remedy.executed_at,
        "chain": [step_item(s) for s in remedy.step_list],
        "timeline": [event_item(e) for e in remedy.event_list],
    }


def eightd_item(row: EightD) -> dict:
    return {
        "id": row.pk,
        "number": row.number,
        "title": row.title,
        "product": row.product,
        "state": row.state,
        "champion": person(row.champion),
        "department": {"id": row.department_id, "name": row.department.name},
        "team": [person(u) for u in row.team.all()],
        "complaints": [{"id": c.pk, "number": c.number} for c in row.complaints.all()],
        **{f: getattr(row, f) for f in ("d2_problem", "d3_containment", "d4_root_cause", "d5_corrective")},
        **{f: getattr(row, f) for f in ("d6_verification", "d7_prevention", "d8_closure")},
        "stock_checked": row.stock_checked,
        "stock_isolated": row.stock_isolated,
        "actions": [
            {
                "id": a.pk,
                "kind": a.kind,
                "kind_label": str(a.get_kind_display()),
                "description": a.description,
                "owner": person(a.owner),
                "due_at": a.due_at,
                "done_at": a.done_at,
                "verified": a.verified,
                "verification": a.verification,
            }
            for a in row.actions.select_related("owner").order_by("due_at", "id")
        ],
        "created_at": row.created_at,
        "closed_at": row.closed_at,
    }
