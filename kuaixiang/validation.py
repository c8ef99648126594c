"""Turn pydantic validation errors into the house error shape with Chinese messages."""

from typing import Any

from kuaixiang.errors import InvalidInput

# pydantic error type -> (machine code, Chinese message template)
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("field_required", "必填项缺失"),
    "string_too_long": ("text_too_long", "内容过长，最多 {max_length} 个字符"),
    "string_too_short": ("text_too_short", "内容不能为空"),
    "too_long": ("too_many_items", "条目过多，最多 {max_length} 条"),
    "too_short": ("too_few_items", "至少需要 {min_length} 条"),
    "string_type": ("not_a_string", "应为文本"),
    "int_parsing": ("not_an_integer", "应为整数"),
    "int_type": ("not_an_integer", "应为整数"),
    "int_from_float": ("not_an_integer", "应为整数"),
    "bool_parsing": ("not_a_boolean", "应为 true 或 false"),
    "bool_type": ("not_a_boolean", "应为 true 或 false"),
    "decimal_parsing": ("not_a_number", "应为数字"),
    "decimal_type": ("not_a_number", "应为数字"),
    "decimal_max_digits": ("number_too_large", "数字位数过多"),
    "decimal_max_places": ("too_many_decimals", "最多两位小数"),
    "decimal_whole_digits": ("number_too_large", "数字过大"),
    "finite_number": ("not_a_number", "应为有限数字"),
    "datetime_parsing": ("not_a_datetime", "应为 ISO 8601 时间，例如 2026-11-22T09:30:00+08:00"),
    "datetime_from_date_parsing": ("not_a_datetime", "应为 ISO 8601 时间，例如 2026-11-22T09:30:00+08:00"),
    "datetime_type": ("not_a_datetime", "应为 ISO 8601 时间"),
    "enum": ("invalid_choice", "取值无效，可选：{expected}"),
    "literal_error": ("invalid_choice", "取值无效，可选：{expected}"),
    "greater_than_equal": ("too_small", "不能小于 {ge}"),
    "greater_than": ("too_small", "必须大于 {gt}"),
    "less_than_equal": ("too_large", "不能大于 {le}"),
    "less_than": ("too_large", "必须小于 {lt}"),
    "dict_type": ("not_an_object", "应为 JSON 对象"),
    "model_type": ("not_an_object", "应为 JSON 对象"),
    "model_attributes_type": ("not_an_object", "应为 JSON 对象"),
    "list_type": ("not_a_list", "应为 JSON 数组"),
    "extra_forbidden": ("unknown_field", "未知字段"),
    "json_invalid": ("malformed_json", "JSON 格式错误"),
    "int_too_big": ("too_large", "数字过大"),
}


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Map pydantic ``errors()`` to ``[{"field", "code", "message"}]``."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        ctx = err.get("ctx") or {}
        if err.get("type") == "value_error" and isinstance(ctx.get("error"), InvalidInput):
            domain = ctx["error"]
            out.append({"field": ".".join(loc), "code": domain.code, "message": domain.message})
            continue
        code, template = _MESSAGES.get(err.get("type", ""), ("invalid_value", "取值无效"))
        try:
            message = template.format(**ctx)
        except (KeyError, IndexError):
            message = template
        out.append({"field": ".".join(loc), "code": code, "message": message})
    return out


def reject_nul(value: Any) -> Any:
    """Return ``value`` unchanged; raise ``InvalidInput("nul_character")`` if a NUL character hides in
    any string, key or item of it. PostgreSQL cannot store NUL in text or JSON columns."""
    pending = [value]  # a stack, not recursion: JSON may nest deeper than the recursion limit
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidInput("nul_character", "内容不能包含空字符（\\u0000）")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


def invalid_input(errors: list[dict[str, Any]]) -> InvalidInput:
    fields = field_errors(errors)
    summary = "；".join(f"{f['field']}：{f['message']}" if f["field"] else f["message"] for f in fields[:5])
    return InvalidInput("validation_error", f"输入有误：{summary}", {"fields": fields})
