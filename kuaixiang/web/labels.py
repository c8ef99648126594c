"""Display labels of the web UI (English msgids, Chinese through locale/zh_Hans) and badge colours."""

from django.utils.translation import gettext_lazy as _

from kuaixiang.complaints.lifecycle import State

ACTION_ICONS = {
    "accept": "check2-circle",
    "refuse": "x-circle",
    "dispatch": "send",
    "transfer": "arrow-left-right",
    "send_back": "arrow-return-left",
    "take": "hand-index",
    "return": "clipboard-check",
    "review_pass": "patch-check",
    "review_reject": "patch-exclamation",
    "reply": "chat-left-text",
    "revisit": "telephone-outbound",
    "reopen": "arrow-counterclockwise",
    "reconsider": "arrow-repeat",
    "suspend": "pause-circle",
    "resume": "play-circle",
    "merge": "union",
    "archive": "archive",
}

# Bootstrap button style per action: the usual next step stands out, refusals look like it.
ACTION_STYLES = {
    "accept": "success",
    "dispatch": "primary",
    "take": "primary",
    "return": "primary",
    "review_pass": "success",
    "reply": "primary",
    "revisit": "primary",
    "archive": "secondary",
    "refuse": "outline-danger",
    "review_reject": "outline-danger",
    "send_back": "outline-warning",
    "merge": "outline-secondary",
    "suspend": "outline-secondary",
}

STATUS_COLOURS = {
    State.REGISTERED: "info",
    State.ACCEPTED: "primary",
    State.REFUSED: "dark",
    State.DISPATCHED: "warning",
    State.PROCESSING: "warning",
    State.RETURNED: "primary",
    State.REVIEWED: "primary",
    State.REPLIED: "success",
    State.REVISITED: "success",
    State.SUSPENDED: "secondary",
    State.MERGED: "light",
    State.ARCHIVED: "light",
}

SEVERITY_COLOURS = {"general": "secondary", "important": "info", "major": "warning", "urgent": "danger"}

# Keys of event payloads worth showing on the timeline, in this order.
PAYLOAD_LABELS = {
    "channel": _("Channel"),
    "department_name": _("Department"),
    "reason": _("Reason"),
    "findings": _("Findings"),
    "solution": _("Solution"),
    "content": _("Reply content"),
    "satisfaction": _("Satisfaction"),
    "solved": _("Solved"),
    "comment": _("Comment"),
    "into_number": _("Merged into"),
    "name": _("File"),
}
