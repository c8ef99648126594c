"""Chinese first: the UI is zh-hans unless the user switches; English msgids have Chinese translations."""

import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
# English msgids that are also fine as Chinese (brand names, codes).
SAME_IN_CHINESE = {"App"}


def test_pages_render_in_chinese_by_default(client, org):
    html = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in html
    assert "登录" in html and "快响" in html
    assert "Log in" not in html


def test_a_browser_asking_for_english_still_gets_chinese(client, org):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in html


def test_the_language_switch_gives_english(login, org, complaint):
    client = login(org.agent)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert 'lang="en"' in html
    assert "Timeline" in html and "Registered" in html  # UI strings and the status label
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "处理过程" in client.get(f"/complaints/{complaint.pk}/").content.decode()


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _po_entries(path: Path) -> dict[str, str]:
    """Single-line entries (the files are made with ``makemessages --no-wrap``)."""
    text = path.read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, flags=re.MULTILINE)
    return {_unescape(k): _unescape(v) for k, v in pairs if k}


def test_every_english_msgid_has_a_chinese_translation():
    entries = _po_entries(LOCALE / "zh_Hans/LC_MESSAGES/django.po")
    english = {k: v for k, v in entries.items() if re.match(r"[A-Za-z%(“]", k)}
    untranslated = sorted(k for k, v in english.items() if not v and k not in SAME_IN_CHINESE)
    assert not untranslated, f"translate in locale/zh_Hans: {untranslated}"


def test_the_compiled_catalogues_match_the_po_files():
    """The .mo files are kept in the repository so a fresh machine needs no gettext: keep them current."""
    for language in ("zh_Hans", "en"):
        folder = LOCALE / language / "LC_MESSAGES"
        with (folder / "django.mo").open("rb") as handle:
            catalogue = gettext.GNUTranslations(handle)
        for msgid, msgstr in _po_entries(folder / "django.po").items():
            if msgstr:
                assert catalogue.gettext(msgid) == msgstr, f"run manage.py compilemessages ({language}: {msgid})"


def test_no_translation_is_left_as_a_fuzzy_guess():
    for language in ("zh_Hans", "en"):
        text = (LOCALE / language / "LC_MESSAGES/django.po").read_text(encoding="utf-8")
        assert not re.search(r"^#, fuzzy", text, flags=re.MULTILINE), f"{language}: review the fuzzy entries"


def test_the_admin_is_branded_in_chinese(login, org):
    org.admin.is_staff = True
    org.admin.is_superuser = True
    org.admin.save()
    assert "快响管理后台" in login(org.admin).get("/admin/").content.decode()
