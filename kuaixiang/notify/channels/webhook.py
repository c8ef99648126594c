"""Group-bot webhooks in the JSON formats of WeCom, DingTalk and Feishu.

Each body carries the outbox id (in the text and the ``X-Kuaixiang-Message-Id`` header)
so that a receiver can drop the repeats at-least-once delivery may produce.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request

from django.conf import settings


class WebhookRejected(Exception):
    """The bot answered, but with an error (HTTP status or errcode/code in the body)."""


def _text(notification) -> str:
    link = f"{settings.KX_SITE_URL.rstrip('/')}{notification.link}" if notification.link else ""
    return f"{notification.subject}\n{notification.body}\n{link}\n消息ID：{notification.pk}".strip()


def wecom_body(notification) -> dict:
    return {"msgtype": "text", "text": {"content": _text(notification)}}


def dingtalk_body(notification) -> dict:
    return {"msgtype": "text", "text": {"content": _text(notification)}}


def feishu_body(notification, secret: str = "", now: int | None = None) -> dict:
    body: dict = {"msg_type": "text", "content": {"text": _text(notification)}}
    if secret:
        timestamp = str(now or int(time.time()))
        # Feishu signs an empty message with key "timestamp\nsecret".
        key = f"{timestamp}\n{secret}".encode()
        body["timestamp"] = timestamp
        body["sign"] = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return body


def dingtalk_signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """DingTalk 加签: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, in the query string."""
    timestamp = str(now_ms or int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def build_request(notification) -> tuple[str, dict]:
    hook = notification.webhook
    fmt = hook.format if hook else "wecom"
    secret = hook.secret if hook else ""
    url = notification.address
    if fmt == "dingtalk":
        return (dingtalk_signed_url(url, secret) if secret else url), dingtalk_body(notification)
    if fmt == "feishu":
        return url, feishu_body(notification, secret)
    return url, wecom_body(notification)


def deliver_webhook(notification) -> None:
    url, body = build_request(notification)
    request = urllib.request.Request(  # noqa: S310 — admin-configured http(s) bot address
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "X-Kuaixiang-Message-Id": str(notification.pk)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.KX_WEBHOOK_TIMEOUT) as response:  # noqa: S310
        raw = response.read(65536)
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return
    # WeCom/DingTalk answer {"errcode": 0}; Feishu {"code": 0} or {"StatusCode": 0}.
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0))) if isinstance(answer, dict) else 0
    if code not in (0, None):
        raise WebhookRejected(f"bot answered {code}: {answer.get('errmsg') or answer.get('msg')}")
