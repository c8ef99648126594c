"""Chinese first: the language is the one the user chose (cookie set by /i18n/setlang/), else zh-hans.

Django's own LocaleMiddleware would follow the browser's Accept-Language, so a Chinese
customer-service agent on an English-language browser would get an English desk. Here the
browser's preference is ignored; the language switch in the navigation bar is the only way
to English.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            try:
                language = translation.get_supported_language_variant(chosen)
            except LookupError:
                pass
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
