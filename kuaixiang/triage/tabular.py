"""Reading labelled CSV exports for the classifier commands (pure Python, no Django).

Encoding policy — Chinese spreadsheets are often saved as GBK: a file is decoded as UTF-8
(with or without a byte-order mark) or UTF-16 when it starts with a UTF-16 mark; a file
that is not valid UTF-8 is decoded as GB18030 (the superset of GBK and GB2312) when it
decodes cleanly and its Chinese characters are overwhelmingly ones GB2312 knows — so a Big5
or binary file is not silently turned into nonsense; anything else is refused with the
offset of the first bad byte. ``encoding=`` forces one codec. The encoding used is reported
so the command can say it decoded GBK.

The delimiter is a comma, or a tab when the header line has tabs and no comma (Excel's
"Unicode text" export).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kuaixiang.triage.classifier import ClassifierError

__all__ = ["Table", "decode", "read_table"]

csv.field_size_limit(16 * 1024 * 1024)  # one complaint text may be long; the default is 128 KiB

GB_FALLBACK = "gb18030"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _looks_like_gb_text(text: str) -> bool:
    """True when at least 90 % of the distinct CJK characters are in GB2312 (common simplified Chinese)."""
    cjk = {ch for ch in text if _is_cjk(ch)}
    if not cjk:
        return True
    known = 0
    for ch in cjk:
        try:
            ch.encode("gb2312")
            known += 1
        except UnicodeEncodeError:
            pass
    return known >= 0.9 * len(cjk)


def decode(data: bytes, encoding: str | None = None, *, name: str = "CSV") -> tuple[str, str]:
    """Return ``(text, encoding used)``; :class:`ClassifierError` when the bytes are no text we can read."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise ClassifierError(f"未知的编码：{encoding}", f"Unknown encoding: {encoding}") from None
        except UnicodeDecodeError as exc:
            raise ClassifierError(
                f"{name} 不能按 {encoding} 解码（第 {exc.start} 字节）。",
                f"{name} cannot be decoded as {encoding} (byte {exc.start}).",
                code="encoding",
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    if encoding:
        return decode(data, encoding, name=name)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode(GB_FALLBACK)
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text and _looks_like_gb_text(text):
        return text, GB_FALLBACK
    raise ClassifierError(
        f"{name} 既不是 UTF-8 也不是 GBK/GB18030 编码（第 {utf8_error.start} 字节无法解码）。"
        "请另存为 UTF-8，或用 --encoding 指定编码。",
        f"{name} is neither UTF-8 nor GBK/GB18030 (byte {utf8_error.start} cannot be decoded). "
        "Save it as UTF-8, or name the encoding with --encoding.",
        code="encoding",
    )


@dataclass
class Table:
    """A decoded CSV: its header and the requested columns' values, row by row."""

    path: str
    encoding: str
    delimiter: str
    columns: list[str]
    values: dict[str, list[str]]

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.values.values()), []))

    def column(self, name: str) -> list[str]:
        return self.values[name]


def read_table(path: str | os.PathLike[str], *, columns: Sequence[str], encoding: str | None = None) -> Table:
    """Read ``path`` and return the named ``columns``.

    :class:`ClassifierError` for a missing or empty file, an unreadable encoding, malformed
    CSV, or a missing column (the message lists the columns the file has).
    """
    path = Path(path)
    if not path.is_file():
        raise ClassifierError(f"CSV 文件不存在：{path}", f"CSV file not found: {path}", code="missing")
    text, used = decode(path.read_bytes(), encoding, name=str(path))
    if not text.strip():
        raise ClassifierError(f"CSV 文件是空的：{path}", f"CSV file is empty: {path}", code="empty")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ClassifierError(
                f"CSV 中没有列：{'、'.join(missing)}。现有列：{'、'.join(header) or '（无）'}。"
                "请用 --text-col / --label-col 指定列名。",
                f"The CSV has no column {', '.join(repr(c) for c in missing)}. "
                f"Columns present: {', '.join(header) or '(none)'}. Name them with --text-col / --label-col.",
                code="missing_column",
            )
        positions = {c: header.index(c) for c in columns}
        values: dict[str, list[str]] = {c: [] for c in columns}
        for row in reader:
            if not row:
                continue  # a blank line
            for name, position in positions.items():
                values[name].append(row[position] if position < len(row) else "")
    except csv.Error as exc:
        raise ClassifierError(
            f"CSV 格式错误（第 {reader.line_num} 行）：{exc}",
            f"Malformed CSV (line {reader.line_num}): {exc}",
            code="malformed",
        ) from None
    return Table(str(path), used, delimiter, header, values)
