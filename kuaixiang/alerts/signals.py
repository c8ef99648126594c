"""Signals of the early-warning mechanism.

``warning_raised`` is sent inside the writing transaction whenever a warning is created or rises
in level, with keyword arguments ``warning`` (the :class:`~kuaixiang.alerts.models.Warning`, already
saved at its new level and count), ``previous_level`` (int; 0 when the warning is new) and ``now``
(the evaluation's datetime). Receivers run in that transaction: an exception rolls the warning (and
the complaint that raised it) back, so keep them small and write only rows of your own. Warnings of
the sandbox organisation (replays and drills) carry ``warning.sandbox = True``.
"""

from django.dispatch import Signal

warning_raised = Signal()
