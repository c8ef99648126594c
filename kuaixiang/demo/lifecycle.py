"""Move demo complaints through the lifecycle with the real ``complaint_transition``.

Each complaint has a story: a generator of steps (wait, action, actor, payload). All stories
run as one time-ordered simulation: the earliest pending step of any complaint is performed
next, with the clock frozen at its moment, so the database is always in the state it was
in at that moment (a lead merging a repeat sees whether the original is still open) and
every event carries its back-dated time. A step that would fall after "now" ends its story:
recent complaints are naturally still in progress.

Each action costs about ten queries, so only a budget of actions is spent: every complaint
of the last days, every repeat (a cheap merge) and a share of the older ones are walked;
older complaints outside the share stay registered (the untouched backlog).
"""

import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kuaixiang import clock
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.demo import texts
from kuaixiang.demo.complaints import FAMILY_FUNCTION, Draft
from kuaixiang.demo.organisation import DemoOrg
from kuaixiang.errors import DomainError
from kuaixiang.org.models import Department

Function = Department.Function
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
RECENT = timedelta(days=5)
FULL_STORY_ACTIONS = 8.0  # average actions of a complaint that runs its whole course
RECENT_STORY_ACTIONS = 4.0  # … of one received in the last days (cut off by "now")
STALL = 0.012  # chance, at each step, that a case is left lying there (the overdue backlog)


@dataclass(frozen=True)
class Step:
    wait: timedelta
    action: str
    actor: object
    data: dict | None = None


@dataclass
class SeedStats:
    complaints: int = 0
    walked: int = 0
    transitions: int = 0
    refused: int = 0  # steps the services refused (a merge target closed meanwhile)
    intake_seconds: float = 0.0
    lifecycle_seconds: float = 0.0
    by_action: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def choose_walked(drafts: list[Draft], *, now: datetime, budget: int, rng: random.Random) -> list[Draft]:
    """The drafts whose story is played, spending about ``budget`` actions in all."""
    originals = {id(d.duplicate_of) for d in drafts if d.duplicate_of is not None}
    must = [d for d in drafts if now - d.registered_at < RECENT or d.duplicate_of or id(d) in originals]
    rest = [d for d in drafts if not (now - d.registered_at < RECENT or d.duplicate_of or id(d) in originals)]
    spent = sum(1 if d.duplicate_of else RECENT_STORY_ACTIONS for d in must)
    share = 1.0 if not rest else min(1.0, max(0.0, (budget - spent) / (FULL_STORY_ACTIONS * len(rest))))
    chosen = {id(d) for d in must} | {id(d) for d in rest if rng.random() < share}
    return [d for d in drafts if id(d) in chosen]


class Simulation:
    def __init__(self, org: DemoOrg, rng: random.Random, now: datetime, stats: SeedStats):
        self.org, self.rng, self.now, self.stats = org, rng, now, stats
        self.limit = now - MINUTE
        self.last: dict[int, datetime] = {}
        self.heap: list = []
        self.sequence = itertools.count()

    # -- running

    def run(self, drafts: list[Draft]) -> None:
        for draft in drafts:
            self.last[draft.complaint_id] = draft.registered_at
            self._schedule(draft, self._story(draft))
        self.stats.walked += len(drafts)
        while self.heap:
            at, _, draft, story, step = heapq.heappop(self.heap)
            try:
                with clock.frozen(at):
                    complaint_transition(
                        complaint_id=draft.complaint_id, action=step.action, actor=step.actor, data=step.data
                    )
            except DomainError as exc:
                self.stats.refused += 1
                self._schedule(draft, story, exc)
                continue
            self.last[draft.complaint_id] = at
            self.stats.transitions += 1
            self.stats.by_action[step.action] += 1
            self._schedule(draft, story)

    def _schedule(self, draft: Draft, story: Generator[Step, None, None], error: DomainError | None = None) -> None:
        try:
            step = story.throw(error) if error is not None else next(story)
        except (StopIteration, DomainError):
            return
        at = self._working_hours(self.last[draft.complaint_id] + step.wait)
        if at >= self.limit or self.rng.random() < STALL:
            story.close()
            return
        heapq.heappush(self.heap, (at, next(self.sequence), draft, story, step))

    # -- waiting times

    def _working_hours(self, at: datetime) -> datetime:
        """Move a moment at night to the next morning shift (08:00–21:00 Shanghai)."""
        local = at.astimezone(clock.SHANGHAI)
        if 8 <= local.hour < 21:
            return at
        morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
        if local.hour >= 21:
            morning += DAY
        return morning + self._wait(0, 90)

    def _wait(self, low: float, high: float, unit: timedelta = MINUTE) -> timedelta:
        return self.rng.uniform(low, high) * unit

    # -- the stories

    def _story(self, draft: Draft) -> Generator[Step, None, None]:
        rng, unit = self.rng, self.org.units[draft.unit]
        agent, lead = draft.agent, rng.choice(unit.leads)
        original = draft.duplicate_of
        if original is not None and rng.random() < 0.8:
            try:
                yield Step(self._wait(10, 180), "merge", lead, {"into_id": original.complaint_id})
                return
            except DomainError:
                pass  # the original was closed meanwhile: this one is handled on its own
        if rng.random() < 0.04:
            yield Step(self._wait(3, 60), "refuse", agent, {"reason": rng.choice(texts.REFUSE_REASONS)})
            roll = rng.random()
            if roll >= 0.15:
                if roll < 0.85:
                    yield Step(self._wait(2, 30, HOUR), "archive", lead)
                return
            reason = rng.choice(texts.RECONSIDER_REASONS)
            yield Step(self._wait(1, 4, DAY), "reconsider", unit.manager, {"reason": reason})
        else:
            yield Step(self._wait(2, 90), "accept", agent)
        yield from self._handling(draft, agent, lead)

    def _departments(self, draft: Draft):
        return self.org.units[draft.branch].handling

    def _handling(self, draft: Draft, agent, lead) -> Generator[Step, None, None]:
        rng = self.rng
        departments = self._departments(draft)
        function = FAMILY_FUNCTION.get(draft.family, Function.BUSINESS_SUPPORT)
        target = departments.get(function) or departments[Function.BUSINESS_SUPPORT]
        others = [h for h in departments.values() if h is not target]
        yield Step(self._wait(5, 60), "dispatch", agent, {"department_id": target.department.pk})
        handler = rng.choice(target.handlers)
        roll = rng.random()
        if roll < 0.04:
            reason = rng.choice(texts.SEND_BACK_REASONS)
            yield Step(self._wait(30, 240), "send_back", handler, {"reason": reason})
            target = rng.choice(others)
            yield Step(self._wait(10, 90), "dispatch", agent, {"department_id": target.department.pk})
            handler = rng.choice(target.handlers)
        elif roll < 0.08:
            new = rng.choice(others)
            reason = rng.choice(texts.TRANSFER_REASONS).format(dept=new.department.name)
            data = {"department_id": new.department.pk, "reason": reason}
            yield Step(self._wait(30, 360), "transfer", target.head, data)
            target, handler = new, rng.choice(new.handlers)
        yield Step(self._wait(10, 360), "take", handler)
        if rng.random() < 0.03:
            yield Step(self._wait(1, 8, HOUR), "suspend", handler, {"reason": rng.choice(texts.SUSPEND_REASONS)})
            yield Step(self._wait(8, 48, HOUR), "resume", handler)
        fast = draft.family in ("net", "bb", "ent")
        finding, solution = self._findings(draft)
        yield self._return(handler, finding, solution, (1, 12) if fast else (4, 48))
        if rng.random() < 0.08:
            reason = rng.choice(texts.REVIEW_REJECT_REASONS)
            yield Step(self._wait(1, 8, HOUR), "review_reject", lead, {"reason": reason})
            finding, solution = self._findings(draft)
            yield self._return(handler, finding, solution, (2, 24))
        yield Step(self._wait(20, 480), "review_pass", lead)
        yield self._reply(draft, agent, finding, solution)
        satisfied = yield from self._revisit(agent, happy=0.87)
        if not satisfied and rng.random() < 0.6:
            yield Step(self._wait(10, 240), "reopen", agent, {"reason": rng.choice(texts.REOPEN_REASONS)})
            yield Step(self._wait(10, 360), "take", handler)
            finding, solution = self._findings(draft)
            yield self._return(handler, finding, solution, (2, 24))
            yield Step(self._wait(20, 480), "review_pass", lead)
            yield self._reply(draft, agent, finding, solution)
            yield from self._revisit(agent, happy=0.9)
        if rng.random() < 0.85:
            yield Step(self._wait(4, 72, HOUR), "archive", lead)

    def _findings(self, draft: Draft) -> tuple[str, str]:
        rng = self.rng
        values = {
            "cause": rng.choice(texts.CAUSES),
            "when": rng.choice(texts.WHEN),
            "amount": str(draft.data.get("amount_claimed") or "50").split(".")[0],
            "times": rng.choice((2, 3, 6)),
        }
        finding = rng.choice(texts.FINDINGS.get(draft.family, ("经核实，情况属实",))).format(**values)
        solution = rng.choice(texts.SOLUTIONS.get(draft.family, ("已按用户诉求处理完毕",))).format(**values)
        return finding, solution

    def _return(self, handler, finding: str, solution: str, hours: tuple[float, float]) -> Step:
        return Step(self._wait(*hours, HOUR), "return", handler, {"findings": finding, "solution": solution})

    def _reply(self, draft: Draft, agent, finding: str, solution: str) -> Step:
        content = texts.REPLY_TEMPLATE.format(leaf=draft.leaf.name, finding=finding, solution=solution)
        return Step(self._wait(10, 480), "reply", agent, {"content": content})

    def _revisit(self, agent, *, happy: float) -> Generator[Step, None, bool]:
        rng = self.rng
        solved = rng.random() < happy
        weights = (60, 30, 10) if solved else (45, 40, 15)
        satisfaction = rng.choices((5, 4, 3) if solved else (1, 2, 3), weights=weights)[0]
        data = {"satisfaction": satisfaction, "solved": solved, "comment": rng.choice(texts.REVISIT_COMMENTS[solved])}
        yield Step(self._wait(12, 72, HOUR), "revisit", agent, data)
        return solved and satisfaction >= 3
