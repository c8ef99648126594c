"""Hooks other mechanisms attach to without the complaint services importing them.

Both signals are sent inside the writing transaction, after the rows are saved: a receiver's
writes commit or roll back with the complaint, and a receiver that raises aborts the change.
Receivers must be cheap (they run on every intake) and must not change the complaint itself.

- ``complaints_registered(complaints: list[Complaint], actor, now)``: new complaints, one call per
  ``complaint_register`` (a list of one) or ``complaint_register_bulk`` batch; repeats that
  returned an existing complaint are not sent. Each complaint's own registration instant is its
  ``created_at`` (``now`` for live intake; in a replay's batch, registered ``at_receipt``, the
  instants differ, in order, and ``now`` is the latest): receivers that count by time use it.
- ``complaint_transitioned(complaint, action: str, before: str, actor, now)``: one accepted
  lifecycle action.
"""

from django.dispatch import Signal

complaints_registered = Signal()
complaint_transitioned = Signal()
