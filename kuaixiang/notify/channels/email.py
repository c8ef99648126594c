from django.conf import settings
from django.core.mail import EmailMessage


def deliver_email(notification) -> None:
    """Send one e-mail; the Message-ID header is derived from the outbox id so repeats can be dropped."""
    message = EmailMessage(
        subject=notification.subject,
        body=f"{notification.body}\n\n{settings.KX_SITE_URL.rstrip('/')}{notification.link}",
        to=[notification.address],
        headers={
            "Message-ID": f"<{notification.pk}@kuaixiang>",
            "X-Kuaixiang-Message-Id": str(notification.pk),
        },
    )
    message.send(fail_silently=False)
