"""Plug-ins are found one way (``learning.plugins.discover``), and features meet only through public names."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from learning import FEATURES, plugins

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "learning"

# Every registry's contents as plain names, printed by a fresh interpreter (see ``_registries``).
SNAPSHOT = """
import json, sys
from importlib import import_module

def registries():
    from learning.home.panels import PANELS
    from learning.messaging.reminders import _KINDS
    from learning.metrics.services import METRICS, SOURCES
    from learning.notifications.calendar import _SOURCES
    from learning.phases.services import _FIGURE_PROVIDERS
    from learning.scheduler.registry import _JOBS
    from learning.transparency.retention import RULES
    return {
        "reminders": sorted(_KINDS), "jobs": sorted(_JOBS), "metrics": list(METRICS),
        "metric_sources": [f"{s.__module__}.{s.__name__}" for s in SOURCES],
        "calendar": sorted(_SOURCES), "cards": [p.template for p in PANELS],
        "retention": [r.name for r in RULES],
        "roadmap": [f"{p.__module__}.{p.__name__}" for _o, p in _FIGURE_PROVIDERS],
    }

from learning.plugins import discover
discover()
found = registries()
views = [m for m in sys.modules if m.endswith(".views") or m.endswith("_views")]
if "--app" in sys.argv:
    from learning import create_app
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
found_with_app = registries()
print(json.dumps({"discovered": found, "with_app": found_with_app, "views": views}))
"""

# Registrations still made outside their feature's plug-in modules, by branches that move them
# (issue 15 §1: the surveys card to surveys/cards.py, onboarding's to onboarding/cards.py).
# The lead empties this at the merge.


def _registries() -> dict:
    result = subprocess.run([sys.executable, "-c", SNAPSHOT, "--app"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def registries() -> dict:
    return _registries()


def test_discover_imports_no_views_module(registries):
    assert registries["views"] == []


def test_discover_registers_every_plugin_without_the_app(registries):
    """What the running app sees is found by ``discover()`` alone: no plug-in hides in a views module."""
    discovered, with_app = registries["discovered"], registries["with_app"]
    for registry, names in with_app.items():
        missing = set(names) - set(discovered[registry])
        assert not missing, f"{registry}: registered only by importing the app: {missing}"


def test_every_feature_plugs_in_where_it_lives(registries):
    found = registries["discovered"]
    assert {"training.due_soon", "training.due_today", "training.overdue", "training.escalation",
            "training.review_requested", "training.draft_reviewed",
            "announcements.unacknowledged", "feedback.status_changed"} <= set(found["reminders"])
    assert {"training.assignments", "phases.go_live"} <= set(found["calendar"])
    assert {"learning.training.metrics.training", "learning.announcements.metrics.acknowledgements",
            "learning.feedback.metrics.feedback"} <= set(found["metric_sources"])
    assert found["roadmap"] == ["learning.phases.roadmap.training_figure",
                                "learning.feedback.roadmap.open_feedback_figure"]
    assert {"audit_log", "captured_mail", "device_sessions", "outbox", "notifications",
            "survey_answers", "earlier_completions"} <= set(found["retention"])


def test_display_orders_stay_as_they_were(registries):
    found = registries["with_app"]
    assert found["metrics"][:6] == ["training.completion", "training.overdue", "training.time_to_competence",
                                    "announcements.acknowledged", "feedback.closure", "feedback.first_response"]
    assert all(key.startswith("surveys.") for key in found["metrics"][6:-4]) and found["metrics"][6:-4]
    assert found["metrics"][-4:] == ["events.registrations", "events.attendance", "events.no_show", "events.waiting"]
    assert found["retention"] == ["audit_log", "captured_mail", "device_sessions", "outbox", "notifications",
                                  "survey_answers", "earlier_completions"]
    assert found["cards"] == ["onboarding/_home.html", "surveys/_home.html"]
    assert found["calendar"] == sorted(found["calendar"])  # by order, then name: assignments (10) before go-lives (40)


def test_a_registry_read_while_another_thread_discovers_waits_until_all_are_in(monkeypatch):
    """The scheduler runs its jobs in parallel threads: the outbox must never see a kind without its checker."""
    from learning.messaging import reminders

    monkeypatch.setattr(plugins, "_discovered", False)
    real_import = plugins.import_module
    events, importing = [], threading.Event()

    def slow_import(name):
        importing.set()
        time.sleep(0.02)  # an import that takes a while, as on a busy machine
        module = real_import(name)
        events.append(f"imported {name}")
        return module

    monkeypatch.setattr(plugins, "import_module", slow_import)
    first = threading.Thread(target=plugins.discover)
    first.start()
    assert importing.wait(5)
    kind = reminders.kind_named("training.due_today")
    events.append("read")
    first.join(timeout=30)
    assert len(events) == len(plugins.plugin_modules()) + 1 and events[-1] == "read"
    assert kind.still_due is not None and kind.describe is not None


def test_every_extension_point_names_a_registry_that_exists():
    from importlib import import_module

    for point in plugins.EXTENSION_POINTS:
        module, path = point.registry.split(":")
        target = import_module(module)
        for name in path.split("."):
            target = getattr(target, name)
        assert callable(target), point
        assert f"``{point.module}.py``" in plugins.__doc__, point


# Imports between parts of the code -----------------------------------------------------------------------------

# Shared code that may import features: the app factory (blueprints, login).
SHARED_MAY_IMPORT = {"learning/__init__.py": None}


def _imports(path: Path):
    """(module, name or None, line) of every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def _feature_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "learning" and (PACKAGE / parts[1]).is_dir() and parts[1] != "translations":
        return parts[1]
    return None


def test_shared_code_imports_no_feature():
    offences = []
    for path in sorted(PACKAGE.glob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative in SHARED_MAY_IMPORT:
            continue
        for module, name, line in _imports(path):
            if _feature_of(module):
                offences.append(f"{relative}:{line} imports {module}{'.' + name if name else ''}")
    assert offences == []


def test_no_feature_imports_another_features_private_names():
    offences = []
    for path in sorted(PACKAGE.glob("*/**/*.py")):
        feature = path.relative_to(PACKAGE).parts[0]
        for module, name, line in _imports(path):
            other = _feature_of(module)
            private = (name or "").startswith("_") or any(part.startswith("_") for part in module.split("."))
            if other and other != feature and private:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}.{name}")
    assert offences == []


# Registration imports in modules another branch rewrites (issue 15 §1); the lead empties this at the merge.


def test_no_module_is_imported_only_for_what_it_registers():
    """Registration imports (``import x  # noqa: F401``) are gone: ``discover()`` finds plug-ins by name."""
    offences = [f"{path.relative_to(ROOT)}:{number}"
                for path in sorted(PACKAGE.rglob("*.py"))
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if "noqa: F401" in line and "regist" in line]
    assert offences == []


def test_features_are_the_packages_of_learning():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert set(FEATURES) | {"demo"} == packages
