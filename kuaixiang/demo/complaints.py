"""Demo complaints: generated from our own templates, registered and moved through the
lifecycle only by the real services (``complaint_register_bulk``, ``complaint_transition``),
with the clock frozen at each back-dated moment so that every state change has its event.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from kuaixiang import clock
from kuaixiang.complaints.intake import ComplaintInput, parse_complaint_input
from kuaixiang.complaints.models import Channel, Severity
from kuaixiang.complaints.services import complaint_register_bulk
from kuaixiang.demo import texts
from kuaixiang.demo.organisation import BRANCHES, DemoOrg
from kuaixiang.org.models import Department
from kuaixiang.triage.models import Category

Function = Department.Function
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# Share of complaints per top-level family of the telecom pack.
FAMILY_WEIGHTS = {
    "net": 30,
    "bb": 20,
    "bill": 17,
    "biz": 10,
    "svc": 10,
    "mkt": 5,
    "vas": 3,
    "ent": 3,
    "term": 2,
}
# Which department works each family.
FAMILY_FUNCTION = {
    "net": Function.NETWORK,
    "bb": Function.NETWORK,
    "bill": Function.BUSINESS_SUPPORT,
    "biz": Function.BUSINESS_SUPPORT,
    "vas": Function.BUSINESS_SUPPORT,
    "mkt": Function.BUSINESS_SUPPORT,
    "term": Function.BUSINESS_SUPPORT,
    "svc": Function.QUALITY,
    "ent": Function.GROUP_CUSTOMERS,
}
# Channels by intake unit: a branch centre takes calls and online contacts; HQ takes
# regulator hotlines, government transfers, media and letters.
BRANCH_CHANNELS = {
    Channel.PHONE: 52,
    Channel.APP: 10,
    Channel.WECHAT: 10,
    Channel.WEB: 6,
    Channel.VISIT: 6,
    Channel.EMAIL: 3,
    Channel.HOTLINE_12345: 5,
    Channel.HOTLINE_12315: 3,
    Channel.FAX: 1,
    Channel.OTHER: 2,
}
HQ_CHANNELS = {
    Channel.HOTLINE_12315: 25,
    Channel.HOTLINE_12345: 20,
    Channel.GOVERNMENT: 18,
    Channel.WEIBO: 12,
    Channel.LETTER: 8,
    Channel.EMAIL: 8,
    Channel.MEDIA: 4,
    Channel.PHONE: 5,
}
LATE_REGISTERED = {Channel.LETTER, Channel.EMAIL, Channel.GOVERNMENT, Channel.FAX, Channel.MEDIA}
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 7, 10, 10, 9, 6, 7, 9, 9, 8, 7, 6, 7, 7, 5, 3, 2)
BRANCH_NAMES = {key: name for key, name, _ in BRANCHES}
MOBILE_PREFIXES = ("133", "153", "173", "177", "180", "181", "189", "191", "199", "138", "139", "158", "186", "135")


@dataclass
class Draft:
    """One complaint to be: its input, who registers it and when, and what it duplicates."""

    unit: str
    branch: str
    family: str
    leaf: Category
    data: dict
    agent: object
    registered_at: datetime
    # The complaint this one repeats (same customer again, or one of a surge's many):
    # a lead may merge it into that one while it is still open.
    duplicate_of: "Draft | None" = None
    complaint_id: int | None = None


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _leaves() -> dict[str, list[Category]]:
    parents = set(Category.objects.filter(parent__isnull=False).values_list("parent_id", flat=True))
    by_family: dict[str, list[Category]] = defaultdict(list)
    for category in Category.objects.filter(active=True).order_by("path"):
        if category.pk not in parents:
            by_family[category.code.split("-")[0]].append(category)
    return by_family


class Generator:
    """Draws realistic complaint inputs; deterministic for a given ``rng`` and ``now``."""

    def __init__(self, org: DemoOrg, rng: random.Random, now: datetime, days: int):
        self.org, self.rng, self.now, self.days = org, rng, now, days
        self.leaves = _leaves()
        families = {f: w for f, w in FAMILY_WEIGHTS.items() if self.leaves.get(f)}
        other = [f for f in self.leaves if f not in FAMILY_WEIGHTS]
        self.families = {**families, **dict.fromkeys(other, 2)}
        # Some problems are far more common than others: a fixed skew per leaf.
        self.leaf_weights = {c.pk: rng.uniform(0.3, 1.7) for leaves in self.leaves.values() for c in leaves}
        self.phones: list[str] = []
        self.counters: dict[str, int] = defaultdict(int)
        self.branch_keys = [k for k in org.units if k != "hq"]

    # -- small pieces

    def _phone(self, branch: str) -> str:
        rng = self.rng
        if self.phones and rng.random() < 0.08:  # a repeat caller
            return rng.choice(self.phones)
        if rng.random() < 0.1:
            phone = f"{texts.BRANCH_PLACES[branch]['landline_area']}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"
        else:
            phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        self.phones.append(phone)
        return phone

    def _name(self) -> str:
        rng = self.rng
        surname = rng.choice(texts.SURNAMES)
        roll = rng.random()
        if roll < 0.65:
            return surname + rng.choice(texts.GIVEN)
        if roll < 0.92:
            return surname + rng.choice(("先生", "女士"))
        return ""

    def _external_id(self, channel: str, day: datetime) -> str | None:
        self.counters[channel] += 1
        n = self.counters[channel]
        stamp = f"{day.astimezone(clock.SHANGHAI):%Y%m%d}"
        return {
            Channel.HOTLINE_12315: f"315{stamp}{n:05d}",
            Channel.HOTLINE_12345: f"12345-{stamp}-{n:05d}",
            Channel.GOVERNMENT: f"GZB{stamp}{n:04d}",
            Channel.WEIBO: f"WB{self.rng.randrange(10**15, 10**16)}",
            Channel.WECHAT: f"WX{stamp}{n:06d}",
            Channel.APP: f"APP{stamp}{n:06d}",
            Channel.WEB: f"WEB{stamp}{n:06d}",
        }.get(channel)

    @staticmethod
    def _fill(template: str, values: dict) -> str:
        return template.format(**values) if template else ""

    def _values(self, branch: str) -> dict:
        rng, places = self.rng, texts.BRANCH_PLACES[branch]
        district = rng.choice(places["districts"])
        place = f"{district}{rng.choice(places['roads'])}{rng.randint(1, 300)}号{rng.choice(texts.COMPOUNDS)}"
        return {
            "place": place,
            "district": district,
            "days": rng.choice((2, 3, 3, 5, 7, 10, 15)),
            "amount": rng.choice((10, 15, 20, 30, 38, 50, 68, 99, 120, 200, 300, 580)),
            "plan": rng.choice(texts.PLANS),
            "hall": rng.choice(places["halls"]),
            "when": rng.choice(texts.WHEN),
            "times": rng.choice((2, 3, 3, 4, 5)),
            "speed": rng.choice((30, 50, 80, 120, 200)),
            "branch": BRANCH_NAMES.get(branch, ""),
        }

    def _received_at(self, *, day_back: int | None = None, hours: tuple[int, int] | None = None) -> datetime:
        rng = self.rng
        local_now = self.now.astimezone(clock.SHANGHAI)
        while True:
            # Slightly more complaints in recent days than a month ago.
            back = day_back if day_back is not None else int(self.days * rng.random() ** 1.15)
            day = (local_now - back * DAY).replace(hour=0, minute=0, second=0, microsecond=0)
            if day.weekday() >= 5 and rng.random() < 0.3:
                continue  # quieter weekends
            hour = rng.randint(*hours) if hours else rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            at = day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
            if at < self.now - 5 * MINUTE:
                return at.astimezone(clock.SHANGHAI)

    # -- one complaint

    def draft(
        self,
        *,
        leaf: Category | None = None,
        branch: str | None = None,
        unit: str | None = None,
        received_at: datetime | None = None,
        like: Draft | None = None,
        surge: bool = False,
    ) -> Draft:
        """One complaint; ``like`` makes it the same customer complaining again about the same
        problem, ``surge`` one of many customers hit by the same outage."""
        rng = self.rng
        branch = branch or (like.branch if like else rng.choice(self.branch_keys))
        unit = unit or (like.unit if like else ("hq" if rng.random() < 0.15 else branch))
        if leaf is None:
            family = _weighted(rng, self.families)
            options = self.leaves[family]
            leaf = rng.choices(options, weights=[self.leaf_weights[c.pk] for c in options])[0]
        family = leaf.code.split("-")[0]
        received_at = received_at or self._received_at()
        channel = _weighted(rng, HQ_CHANNELS if unit == "hq" else BRANCH_CHANNELS)
        values = self._values(branch)
        if surge:
            values["place"] = f"{texts.SURGE_PLACE}{rng.choice(texts.COMPOUNDS)}"
            symptom = rng.choice(texts.SURGE_SYMPTOMS)
        else:
            symptom = rng.choice(texts.SYMPTOMS.get(leaf.code, (f"反映{leaf.name}问题",)))
        detail = rng.choice(texts.DETAILS.get(family, ("",)))
        description = rng.choice(texts.OPENINGS) + symptom + "。" + (detail + "。" if detail else "")
        repeat = like is not None and not surge
        if repeat:
            description = f"再次反映：{description}之前已经投诉过，一直没有结果。"
        elif rng.random() < 0.05:  # media, regulator, lawsuit or safety wording: graded 重大 by the rules
            description += rng.choice(texts.ESCALATIONS)
        anonymous = channel in (Channel.WEB, Channel.LETTER, Channel.WEIBO) and rng.random() < 0.15
        severity = _weighted(rng, {Severity.GENERAL: 80, Severity.IMPORTANT: 12, Severity.MAJOR: 6, Severity.URGENT: 2})
        if channel in (Channel.MEDIA, Channel.GOVERNMENT) and severity == Severity.GENERAL and rng.random() < 0.5:
            severity = Severity.IMPORTANT
        data = {
            "channel": channel,
            "external_id": self._external_id(channel, received_at),
            "anonymous": anonymous,
            "complainant_name": "" if anonymous else (like.data["complainant_name"] if repeat else self._name()),
            "complainant_phone": None
            if anonymous
            else (like.data["complainant_phone"] if repeat else self._phone(branch)),
            "received_at": received_at,
            "place": values["place"] if family in ("net", "bb", "ent") or rng.random() < 0.2 else "",
            "subject": self._fill(rng.choice(texts.SUBJECTS.get(family, ("",))), values),
            "description": self._fill(description, values),
            "appeal": self._fill(rng.choice(texts.APPEALS.get(family, ("要求尽快处理",))), values),
            "category_id": leaf.pk,
            "severity": severity,
        }
        if repeat and like.data["anonymous"]:
            data.update(anonymous=True, complainant_name="", complainant_phone=None)
        if family in ("bill", "mkt", "vas") and rng.random() < 0.6:
            data["amount_claimed"] = f"{values['amount']}.00"
        elif family == "ent" and rng.random() < 0.3:
            data["amount_claimed"] = f"{rng.choice((5000, 20000, 50000, 120000))}.00"
        if family in ("bill", "biz", "mkt"):
            data["extra"] = {"product": values["plan"]}
        elif family == "bb":
            data["extra"] = {"account": f"ad{rng.randrange(10**9):09d}"}
        delay = rng.uniform(30, 24 * 60) if channel in LATE_REGISTERED else rng.uniform(1, 12)
        registered_at = min(received_at + delay * MINUTE, self.now - MINUTE)
        agent = rng.choice(self.org.units[unit].agents)
        return Draft(unit, branch, family, leaf, data, agent, max(registered_at, received_at), like)

    def drafts(self, count: int) -> list[Draft]:
        """``count`` drafts over the window, including a surge (a base-station outage) and repeats."""
        rng, made = self.rng, []
        surge = 0
        net_leaves = {c.code: c for c in self.leaves.get("net", [])}
        surge_leaf = net_leaves.get("net-mob-data-conn-fail")
        if surge_leaf and self.days >= 4 and count >= 200:
            surge = count // 30
        for _ in range(count - surge):
            if made and rng.random() < 0.03:
                original = rng.choice(made[-200:])
                later = original.registered_at + rng.uniform(2, 72) * HOUR
                if later < self.now - 10 * MINUTE:
                    made.append(self.draft(leaf=original.leaf, received_at=later, like=original))
                    continue
            made.append(self.draft())
        day_back = max(2, self.days // 4)
        wave = sorted(self._received_at(day_back=day_back, hours=(18, 22)) for _ in range(surge))
        first = None
        for at in wave:
            draft = self.draft(leaf=surge_leaf, branch="bj", unit="bj", received_at=at, like=first, surge=True)
            first = first or draft
            made.append(draft)
        return made


# ---------------------------------------------------------------- intake


def register_all(drafts: list[Draft]) -> int:
    """Register drafts through ``complaint_register_bulk``: one batch per complaint centre and
    hour, entered by one of its agents with the clock at the batch's registration time (so
    numbers, ``created_at`` and the register event carry that moment)."""
    batches: dict[tuple[str, datetime], list[Draft]] = defaultdict(list)
    for d in drafts:
        hour = d.registered_at.astimezone(clock.SHANGHAI).replace(minute=0, second=0, microsecond=0)
        batches[(d.unit, hour)].append(d)
    made = 0
    for batch in sorted(batches.values(), key=lambda b: max(d.registered_at for d in b)):
        batch.sort(key=lambda d: d.registered_at)
        agent, at = batch[0].agent, batch[-1].registered_at
        items: list[ComplaintInput] = [parse_complaint_input(d.data) for d in batch]
        with clock.frozen(at):
            results = complaint_register_bulk(actor=agent, items=items)
        for d, result in zip(batch, results, strict=True):
            if result.complaint is None:
                raise RuntimeError(f"demo complaint rejected: {result.error}")
            d.complaint_id, d.agent, d.registered_at = result.complaint.pk, agent, at
            made += result.status == 201
    return made
