import pytest

from tests.notify.support import Receiver, SmtpServer


@pytest.fixture
def receiver():
    bot = Receiver()
    bot.start()
    yield bot
    bot.stop()


@pytest.fixture
def smtp_server(settings):
    """A running local SMTP server, with Django's SMTP backend pointed at it."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
