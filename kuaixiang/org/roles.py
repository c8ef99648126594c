"""Staff roles and which of them see a whole unit (branch or HQ) rather than one department."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("坐席")
    LEAD = "lead", _("班长")
    HANDLER = "handler", _("处理人")
    HEAD = "head", _("部门负责人")
    MANAGER = "manager", _("投诉管理员")
    PR = "pr", _("公关")
    LEGAL = "legal", _("法务")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("系统管理员")


# Roles whose data scope is the whole unit (branch, or everything at HQ) they belong to.
UNIT_SCOPED_ROLES = frozenset({Role.MANAGER, Role.PR, Role.LEGAL, Role.LEADER, Role.ADMIN})

# Roles that work with the complainant directly and may see the full phone number.
PHONE_VISIBLE_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.HANDLER, Role.HEAD, Role.MANAGER, Role.ADMIN})
