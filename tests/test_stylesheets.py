"""Stylesheets per feature: each class is defined in one file, and a page loads the sheets it uses.

``static/css/app.css`` holds the layout and the parts every page shares; a feature's sheet
(``static/css/<feature>.css``) is loaded only by the templates that declare it in the ``styles``
block of ``base.html`` (``{{ ui.stylesheet("surveys") }}``). A class is *defined* by a rule whose
selector has no combinator (``.heat--hidden``, ``.status-tabs__link:hover``); a rule that adapts a
class inside another (``.survey-question .kern-fieldset``) defines nothing, so a feature may adapt
shared and KERN classes in its own context.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSS = ROOT / "static" / "css"
TEMPLATES = ROOT / "templates"

COMMENT = re.compile(r"/\*.*?\*/", re.S)
RULE = re.compile(r"([^{}]+)\{[^{}]*\}")  # innermost blocks: rules, also those inside @media
CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
COMBINATOR = re.compile(r"[\s>+~]")
STRING = re.compile(r"""url\((?:"[^"]*"|'[^']*'|[^)]*)\)|"[^"]*"|'[^']*'""")
CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
INCLUDED = re.compile(r"""\{%-?\s*(?:include|import|from|extends)\s+["']([^"']+)["']""")
DECLARED = re.compile(r"""ui\.stylesheet\(\s*["']([\w-]+)["']\s*\)""")


def _selectors(sheet: Path) -> list[str]:
    text = STRING.sub('""', COMMENT.sub("", sheet.read_text(encoding="utf-8")))
    return [" ".join(selector.split()) for match in RULE.finditer(text) for selector in match.group(1).split(",")
            if not selector.strip().startswith("@")]


def defined_classes(sheet: Path) -> dict[str, list[str]]:
    """class → the selectors of ``sheet`` that define it (those without a combinator)."""
    found: dict[str, list[str]] = {}
    for selector in _selectors(sheet):
        if COMBINATOR.search(re.sub(r"\[[^\]]*\]|\([^)]*\)", "", selector)):
            continue
        for name in CLASS.findall(selector):
            found.setdefault(name, []).append(selector)
    return found


def mentioned_classes(sheet: Path) -> set[str]:
    """Every class a selector of ``sheet`` names, as subject or as context."""
    return {name for selector in _selectors(sheet) for name in CLASS.findall(selector)}


def _sheets() -> dict[str, dict[str, list[str]]]:
    return {sheet.stem: defined_classes(sheet) for sheet in sorted(CSS.glob("*.css"))}


def test_the_checker_sees_a_class_defined_twice(tmp_path):
    first, second = tmp_path / "a.css", tmp_path / "b.css"
    first.write_text("/* .gone */ .heat, .heat--hidden { color: red; }\n@media print { .x:hover { color: red; } }")
    second.write_text(".survey .heat { color: blue; } .y[data-x='.heat'] { }")
    assert set(defined_classes(first)) == {"heat", "heat--hidden", "x"}
    assert set(defined_classes(second)) == {"y"}  # an adaptation in context and a string define nothing


def test_no_class_is_defined_in_two_stylesheets():
    owners: dict[str, list[str]] = {}
    for sheet, classes in _sheets().items():
        for name in classes:
            owners.setdefault(name, []).append(sheet)
    assert {name: sheets for name, sheets in owners.items() if len(sheets) > 1} == {}


def _template_text(name: str, seen: set[str]) -> str:
    """The template with everything it includes, imports or extends (literal names only)."""
    if name in seen or not (TEMPLATES / name).is_file():
        return ""
    seen.add(name)
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    return text + "".join(_template_text(other, seen) for other in INCLUDED.findall(text))


def _used_classes(text: str) -> set[str]:
    """Classes written literally in class attributes (parts built by expressions are left out)."""
    used = set()
    for value in CLASS_ATTRIBUTE.findall(text):
        used.update(token for token in JINJA.sub(" ", value).split() if not token.endswith(("-", "_")))
    return used


def test_base_loads_no_feature_stylesheet():
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    loaded = set(re.findall(r"css/([\w-]+)\.css", base))
    assert loaded == {"app"}
    assert "{% block styles %}{% endblock %}" in base


def _needed_sheets() -> dict[str, set[str]]:
    """class → the feature sheets a page using it needs: those naming it, unless app.css or KERN does."""
    shared = mentioned_classes(CSS / "app.css")
    needed: dict[str, set[str]] = {}
    for sheet in sorted(CSS.glob("*.css")):
        if sheet.stem == "app":
            continue
        for name in mentioned_classes(sheet) - shared:
            if not name.startswith("kern-"):
                needed.setdefault(name, set()).add(sheet.stem)
    return needed


def test_every_page_loads_the_feature_stylesheets_whose_classes_it_uses():
    sheets = {sheet.stem for sheet in CSS.glob("*.css")}
    needs = _needed_sheets()
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.name.startswith("_") or "/mail/" in f"/{name}":
            continue  # partials are checked through the pages that include them; mails carry their own styles
        text = _template_text(name, set())
        declared = set(DECLARED.findall(text))
        assert declared <= sheets, f"{name} declares a stylesheet that does not exist: {declared - sheets}"
        needed = set().union(*(needs.get(c, set()) for c in _used_classes(text)))
        if needed - declared:
            problems.append(f"{name} uses classes of {sorted(needed - declared)} without loading them")
        if declared - needed:
            problems.append(f"{name} loads {sorted(declared - needed)} without using a class of it")
    assert problems == []
