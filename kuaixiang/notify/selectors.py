from kuaixiang.notify.models import Notification


def inbox_page(user, *, unread_only: bool = False, limit: int = 20) -> list[dict]:
    qs = Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return [
        {
            "id": str(n.pk),
            "subject": n.subject,
            "body": n.body,
            "link": n.link,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in qs.order_by("-created_at")[:limit]
    ]
