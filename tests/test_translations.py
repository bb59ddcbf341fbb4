"""Every user-visible string ships in German and English.

Source strings are English, so English is complete by construction; this test extracts
every string from the code and templates exactly as ``make messages`` does and fails when
the German catalogue lacks one, has an empty or fuzzy entry, or breaks a placeholder.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "learning/translations/de/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]")
# As in `make messages`: without them, pybabel skips every directory starting with _ (templates/_macros).
IGNORED_DIRS = (".*", "node_modules", "static", "instance")


def _scanned(directory: str) -> bool:
    return not any(fnmatch(Path(directory).name, pattern) for pattern in IGNORED_DIRS)


def _extracted() -> dict[str, tuple[str, int]]:
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, directory_filter=_scanned
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, (filename, lineno))
    return found


@pytest.fixture(scope="module")
def german():
    with open(CATALOGUE, "rb") as fh:
        return read_po(fh, locale="de")


def test_every_string_has_a_german_translation(german):
    missing = []
    for msgid, (filename, lineno) in sorted(_extracted().items()):
        entry = german.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None or not all(strings) or entry.fuzzy:
            missing.append(f"{filename}:{lineno}: {msgid!r}")
    assert missing == [], "untranslated strings (run `make messages` and translate):\n" + "\n".join(missing)


def test_placeholders_survive_translation(german):
    broken = []
    for entry in german:
        if not entry.id:
            continue
        if isinstance(entry.id, str):
            source = entry.id
            if entry.string and set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(entry.string)):
                broken.append(f"{source!r} -> {entry.string!r}")
            continue
        # Plural forms: each form uses only the source's placeholders and all of them, except that a
        # form may spell the number out ("jede Minute" for "every %(num)d minutes").
        source = entry.id[0]
        wanted = set(PLACEHOLDER.findall(entry.id[0])) | set(PLACEHOLDER.findall(entry.id[1]))
        for target in entry.string:
            used = set(PLACEHOLDER.findall(target))
            if target and (not used <= wanted or not wanted - used <= {"%(num)d", "%(num)s"}):
                broken.append(f"{source!r} -> {target!r}")
    assert broken == []


def test_german_is_the_default_and_english_is_complete(client, people, login):
    german_page = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de">' in german_page and "Anmelden" in german_page
    english_page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english_page and "Sign in" in english_page
    no_preference = client.get("/login", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert '<html lang="de">' in no_preference


def test_language_switch_is_remembered_for_the_person(app, client, people, login):
    login(client, "employee")
    client.submit("/language", {"language": "de", "next": "/account"})
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in page
    from learning.db import db
    from learning.org.models import User

    with app.app_context():
        assert db.session.get(User, people["employee"].id).locale == "de"
