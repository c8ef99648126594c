"""One entry point for the incident actions, used by the API and the web views alike.

``incident_action(incident_id=..., action=..., actor=..., data={...})`` checks that ``data`` holds
exactly the fields the action takes (400 otherwise), calls the service and returns a small
result dict (the bulk reply's per-complaint outcome, the new script version …).
"""

from collections.abc import Callable

from kuaixiang.crisis import branches, links, reports, scripts, services
from kuaixiang.errors import InvalidInput, NotFound

MAX_TEXT = services.MAX_TEXT

# action -> (required fields, optional fields, label)
ACTIONS: dict[str, tuple[frozenset[str], frozenset[str], str]] = {
    "stabilise": (frozenset(), frozenset({"note"}), "转为趋稳观察"),
    "close": (frozenset(), frozenset({"note"}), "结束事件"),
    "link": (frozenset({"complaint_id"}), frozenset(), "关联工单"),
    "unlink": (frozenset({"complaint_id"}), frozenset(), "取消关联"),
    "draft_script": (frozenset({"content"}), frozenset(), "起草口径"),
    "approve_script": (frozenset(), frozenset({"version"}), "审批口径"),
    "publish_script": (frozenset(), frozenset({"content", "version"}), "发布口径"),
    "bulk_reply": (frozenset(), frozenset(), "按口径批量答复"),
    "complete_task": (frozenset({"task_id"}), frozenset({"note", "checklist"}), "完成任务"),
    "push_branches": (frozenset(), frozenset({"branch_ids"}), "下发分公司"),
    "report": (frozenset(), frozenset({"cause", "measures", "responsibility"}), "编写专题报告"),
    "send_report": (frozenset(), frozenset(), "重发初报"),
}


def _text(data: dict, name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput("field_required", f"缺少字段 {name}", {"field": name})
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
        raise InvalidInput("invalid_text", f"{name} 应为不超过 {MAX_TEXT} 字的文本", {"field": name})
    return value


def _id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**62:
        raise InvalidInput("invalid_id", f"{name} 应为正整数", {"field": name})
    return value


def _check(action: str, data: dict) -> None:
    if action not in ACTIONS:
        raise NotFound("unknown_action", f"没有这个操作：{action}", {"actions": list(ACTIONS)})
    required, optional, _ = ACTIONS[action]
    given = {k for k, v in data.items() if v is not None}
    unknown = given - required - optional
    if unknown:
        raise InvalidInput("unexpected_field", f"操作 {action} 不接受字段：{', '.join(sorted(unknown))}")
    missing = required - given
    if missing:
        raise InvalidInput("field_required", f"操作 {action} 缺少字段：{', '.join(sorted(missing))}")


def incident_action(*, incident_id: int, action: str, actor, data: dict | None = None) -> dict:
    """Perform ``action`` on the incident; raise a DomainError (nothing written) when refused."""
    data = dict(data or {})
    _check(action, data)
    note = _text(data, "note") or ""
    handlers: dict[str, Callable[[], dict]] = {
        "stabilise": lambda: (services.incident_stabilise(incident_id=incident_id, actor=actor, note=note), {})[1],
        "close": lambda: (services.incident_close(incident_id=incident_id, actor=actor, note=note), {})[1],
        "link": lambda: _linked(
            links.incident_link(incident_id=incident_id, complaint_id=_id(data, "complaint_id"), actor=actor)
        ),
        "unlink": lambda: _linked(
            links.incident_unlink(incident_id=incident_id, complaint_id=_id(data, "complaint_id"), actor=actor)
        ),
        "draft_script": lambda: _script(
            scripts.script_draft(incident_id=incident_id, actor=actor, content=_text(data, "content", required=True))
        ),
        "approve_script": lambda: _script(
            scripts.script_approve(incident_id=incident_id, actor=actor, number=_id(data, "version"))
        ),
        "publish_script": lambda: _script(
            scripts.script_publish(
                incident_id=incident_id, actor=actor, number=_id(data, "version"), content=_text(data, "content")
            )
        ),
        "bulk_reply": lambda: _bulk(scripts.incident_bulk_reply(incident_id=incident_id, actor=actor)),
        "complete_task": lambda: _task(incident_id, data, actor, note),
        "push_branches": lambda: _pushed(incident_id, data, actor),
        "report": lambda: (
            services.incident_report_update(
                incident_id=incident_id,
                actor=actor,
                cause=_text(data, "cause"),
                measures=_text(data, "measures"),
                responsibility=_text(data, "responsibility"),
            ),
            {},
        )[1],
        "send_report": lambda: {"messages": reports.initial_report_resend(incident_id=incident_id, actor=actor)},
    }
    return handlers[action]()


def _linked(incident) -> dict:
    return {"linked_count": incident.linked_count}


def _script(version) -> dict:
    return {"version": version.number, "status": version.status}


def _bulk(result) -> dict:
    return {"version": result.version, "replied": result.replied, "skipped": result.skipped}


def _task(incident_id: int, data: dict, actor, note: str) -> dict:
    checklist = data.get("checklist")
    if checklist is not None and (not isinstance(checklist, list) or not all(isinstance(v, bool) for v in checklist)):
        raise InvalidInput("invalid_checklist", "checklist 应为布尔值列表", {"field": "checklist"})
    task = services.task_complete(
        task_id=_id(data, "task_id"), incident_id=incident_id, actor=actor, note=note, checklist=checklist
    )
    return {"task_id": task.pk, "state": task.state}


def _pushed(incident_id: int, data: dict, actor) -> dict:
    ids = data.get("branch_ids")
    if ids is not None and (
        not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)
    ):
        raise InvalidInput("invalid_branch_ids", "branch_ids 应为正整数列表", {"field": "branch_ids"})
    created = branches.incident_push_branches(incident_id=incident_id, actor=actor, branch_ids=ids)
    return {"branches": [{"id": c.pk, "unit": c.unit.name} for c in created]}
