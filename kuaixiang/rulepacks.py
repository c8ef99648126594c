"""Rule packs: one YAML mapping per organisation type, split into sections that each app loads.

A pack is ``rulepacks/<name>/`` holding ``*.yaml`` files (``pack.yaml`` with ``pack``, ``title``
and ``version``; then one file per section such as ``categories.yaml`` or ``sla.yaml``), or a
single YAML file. The files are merged into one mapping; a section key found in two files is an
error. Apps register the sections they own in ``AppConfig.ready`` with ``section_register``.

Loading checks every section (``parse``, no writes) before writing any (``load``, in ``order``),
all in one transaction: a malformed pack changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from kuaixiang.errors import InvalidInput

META_KEYS = frozenset({"pack", "title", "version", "description"})


class RulepackError(InvalidInput):
    """A rule pack that cannot be loaded; ``message`` names the file and the offending node."""

    def __init__(self, message: str, *, source: str, where: str = ""):
        location = f"{source}" + (f" {where}" if where else "")
        super().__init__("rulepack_invalid", f"规则包有误（{location}）：{message}", {"source": source, "at": where})


@dataclass(frozen=True)
class SectionResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class Section:
    """``parse(document, source)`` validates the whole merged document and returns specs (no writes);
    ``load(specs, source)`` writes them and returns a ``SectionResult`` (or None when absent)."""

    key: str
    label: str
    order: int
    parse: Callable[[dict, str], Any]
    load: Callable[[Any, str], SectionResult | None]


_SECTIONS: dict[str, Section] = {}


def section_register(section: Section) -> None:
    _SECTIONS[section.key] = section


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


@dataclass
class PackResult:
    source: str
    results: dict[str, SectionResult] = field(default_factory=dict)

    def __getitem__(self, key: str) -> SectionResult:
        return self.results[key]

    def get(self, key: str) -> SectionResult | None:
        return self.results.get(key)

    def summary(self) -> str:
        """One line in Chinese: what each section did."""
        labels = {s.key: s.label for s in sections()}
        parts = [
            f"{labels.get(key, key)} {r.total} 个（新增 {r.created}，更新 {r.updated}，未变 {r.unchanged}）"
            for key, r in self.results.items()
        ]
        return f"{self.source}：" + "；".join(parts)


def children_sync(model, existing: dict, wanted: dict, *, owner: dict, key_field: str | None = None) -> bool:
    """Make one owner's child rows (targets, ladder steps, playbook roles …) equal ``wanted``: create
    the missing ones (with the ``owner`` fields, and the dict key as ``key_field`` when given),
    update those that differ, delete those ``wanted`` lacks. ``existing`` and ``wanted`` are keyed
    alike; return whether anything changed."""
    changed = False
    existing = dict(existing)
    for key, values in wanted.items():
        row = existing.pop(key, None)
        if row is None:
            model.objects.create(**owner, **({key_field: key} if key_field else {}), **values)
            changed = True
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
            changed = True
    for row in existing.values():
        row.delete()
        changed = True
    return changed


def yaml_parse(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        raise RulepackError(f"YAML 格式错误：{exc.problem or exc}", source=source, where=where) from None
    except yaml.YAMLError as exc:
        raise RulepackError(f"YAML 格式错误：{exc}", source=source) from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulepackError("文件不存在", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulepackError(f"无法读取文件：{exc}", source=str(path)) from None


def pack_files(name_or_path: str | Path) -> list[Path]:
    """The YAML files of a pack given by name (``telecom``), directory or file."""
    path = Path(name_or_path)
    if not path.exists() and path.parent == Path(".") and path.suffix == "":
        path = Path(settings.BASE_DIR) / "rulepacks" / path.name
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise RulepackError("目录中没有 YAML 文件", source=str(path))
        return files
    if not path.exists():
        available = ", ".join(pack_names()) or "无"
        raise RulepackError(f"文件或规则包不存在（可用规则包：{available}）", source=str(path))
    return [path]


def pack_names() -> list[str]:
    root = Path(settings.BASE_DIR) / "rulepacks"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _merge(documents: list[tuple[Any, str]]) -> dict:
    merged: dict = {}
    origin: dict[str, str] = {}
    for document, source in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise RulepackError("规则包应为 YAML 映射（key: value）", source=source)
        for key, value in document.items():
            if key in merged and key not in META_KEYS:
                raise RulepackError(f"节 {key} 在 {origin[key]} 中已出现", source=source)
            merged.setdefault(key, value)
            origin.setdefault(key, source)
    return merged


@transaction.atomic
def rulepack_load_document(document: Any, *, source: str = "<text>") -> PackResult:
    """Check every registered section of ``document``, then write them in order, all or nothing."""
    if not isinstance(document, dict):
        raise RulepackError("规则包应为 YAML 映射（key: value）", source=source)
    known = {s.key for s in sections()} | META_KEYS
    unknown = sorted(str(k) for k in document if k not in known)
    if unknown:
        raise RulepackError(f"未知的节：{', '.join(unknown)}（可用：{', '.join(sorted(known))}）", source=source)
    parsed = [(section, section.parse(document, source)) for section in sections()]
    result = PackResult(source)
    for section, specs in parsed:
        loaded = section.load(specs, source)
        if loaded is not None:
            result.results[section.key] = loaded
    return result


def rulepack_load_text(text: str, *, source: str = "<text>") -> PackResult:
    return rulepack_load_document(yaml_parse(text, source), source=source)


def rulepack_load(name_or_path: str | Path) -> PackResult:
    """Load a pack by name (``telecom``), directory or file; raise ``RulepackError`` when it is
    unreadable or malformed, having written nothing."""
    files = pack_files(name_or_path)
    document = _merge([(yaml_parse(_read(f), str(f)), str(f)) for f in files])
    return rulepack_load_document(document, source=str(name_or_path))
