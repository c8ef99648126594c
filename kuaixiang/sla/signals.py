"""Signals of the SLA mechanism.

``stage_escalated`` is sent inside the escalation transaction each time one ladder level of
one stage fires (exactly once per stage and level, also with several workers), with keyword
arguments ``stage`` (the :class:`~kuaixiang.sla.models.ComplaintStage`, already at the new
level), ``complaint`` (its :class:`~kuaixiang.complaints.models.Complaint`), ``level`` (int)
and ``now`` (the sweep's datetime). Receivers run in that transaction: an exception rolls the
level back, so keep them small and write only rows of your own.
"""

from django.dispatch import Signal

stage_escalated = Signal()
