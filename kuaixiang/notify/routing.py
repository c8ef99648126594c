"""Who hears about a complaint action: pure choice of recipient groups per action."""

from kuaixiang.org.roles import Role

# Action -> roles in the complaint's *handling* department to notify.
HANDLING_DEPARTMENT = {
    "dispatch": (Role.HANDLER, Role.HEAD),
    "transfer": (Role.HANDLER, Role.HEAD),
    "reopen": (Role.HANDLER, Role.HEAD),
    "reconsider": (),
}
# Action -> roles in the *intake* department (the complaint centre) to notify.
INTAKE_DEPARTMENT = {
    "send_back": (Role.LEAD, Role.MANAGER),
    "return": (Role.LEAD, Role.MANAGER),
}
# Actions that tell the current assignee.
TO_ASSIGNEE = frozenset({"review_reject", "merge", "suspend", "resume"})
# Actions that also go out by e-mail (work arriving or coming back); the rest stay in-app.
EMAIL_ACTIONS = frozenset({"dispatch", "transfer", "reopen", "send_back", "review_reject", "return"})
