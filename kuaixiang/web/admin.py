from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Kuaixiang administration")
admin.site.site_title = _("Kuaixiang")
admin.site.index_title = _("Configuration and records")
