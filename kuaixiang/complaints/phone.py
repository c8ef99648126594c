"""Mainland China phone numbers: mobiles (1[3-9]xxxxxxxxx) and landlines with an area code."""

import re
import unicodedata

from kuaixiang.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
# 010/02x are three-digit area codes with 8-digit numbers; others are 0xxx with 7–8 digits.
_LANDLINE = re.compile(r"(0(?:10|2\d))(\d{8})|(0[3-9]\d{2})(\d{7,8})", re.ASCII)
_SERVICE = re.compile(r"([48]00)(\d{7})", re.ASCII)


def normalise_phone(raw: str) -> str:
    """Return the canonical form (``13812345678``, ``010-12345678``, ``0571-8888888-123``).

    Raise ``InvalidInput("invalid_phone")`` for anything that is not a mainland number.
    """
    # NFKC turns full-width input (１３８…, （０１０）) into ASCII; other scripts' digits stay and are refused.
    text = unicodedata.normalize("NFKC", raw).strip()
    extension = ""
    match = re.search(r"(?:转|ext\.?|x|#)\s*([0-9]{1,6})$", text, re.IGNORECASE)
    if match:
        extension, text = match.group(1), text[: match.start()]
    digits = _SEPARATORS.sub("", text)
    international = digits.startswith(("+86", "0086"))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not (digits.isascii() and digits.isdigit()):
        raise _invalid(raw)
    if international and not digits.startswith("0") and not _MOBILE.fullmatch(digits):
        digits = "0" + digits  # +86 10 12345678: dialled from abroad, the area code drops its 0
    if _MOBILE.fullmatch(digits) and not extension:
        return digits
    landline = _LANDLINE.fullmatch(digits) or _SERVICE.fullmatch(digits)
    if landline:
        area, number = [g for g in landline.groups() if g]
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    raise _invalid(raw)


def _invalid(raw: str) -> InvalidInput:
    return InvalidInput(
        "invalid_phone",
        "联系电话不是有效的大陆手机号或固定电话（固话需带区号，如 010-12345678）",
        {"value": raw[:40]},
    )


def mask_phone(phone: str) -> str:
    """Hide the middle digits: ``138****5678``, ``010-****5678``."""
    if len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]}****{phone[-4:]}"
    if "-" in phone:
        area, _, rest = phone.partition("-")
        return f"{area}-****{rest[-4:]}" if len(rest) > 4 else phone
    return phone
