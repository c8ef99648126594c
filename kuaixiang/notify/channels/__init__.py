from kuaixiang.notify.channels.email import deliver_email
from kuaixiang.notify.channels.webhook import deliver_webhook

__all__ = ["deliver_email", "deliver_webhook"]
