"""The demo programme: rollout phases of Gemeinde Musterhausen around today's half-year."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learning.db import db
from learning.org.models import Department
from learning.phases.models import PhaseStatus, RolloutPhase

# slug, title, English title, half-years from now, status, affected departments, goals
PHASES = [
    ("onlinedienste", "Online-Serviceportal", "Online service portal", -3, PhaseStatus.DONE,
     ["Bürgerservice", "Ordnung"],
     "Bürgerinnen und Bürger stellen die 20 häufigsten Anträge online; die Anträge kommen strukturiert "
     "im Fachbereich an."),
    ("e-rechnung", "E-Rechnung", "Electronic invoicing", -2, PhaseStatus.DONE, ["Finanzen"],
     "Rechnungen kommen nur noch elektronisch an und werden digital geprüft, freigegeben und gebucht."),
    ("mobiles-arbeiten", "Mobiles Arbeiten", "Mobile working", -1, PhaseStatus.DONE, ["Zentrale Dienste"],
     "Alle Beschäftigten können sicher von unterwegs und von zu Hause arbeiten."),
    ("e-akte", "Elektronische Akte (E-Akte)", "Electronic files", 0, PhaseStatus.ACTIVE,
     ["Bürgerservice", "Finanzen", "Zentrale Dienste"],
     "Akten werden elektronisch geführt; Papier wird beim Posteingang gescannt."),
    ("personalakte", "Digitale Personalakte", "Digital personnel file", 1, PhaseStatus.PLANNED, ["Zentrale Dienste"],
     "Die Personalakte wird digital geführt; Beschäftigte sehen ihre eigenen Unterlagen online."),
    ("ratsarbeit", "Digitale Ratsarbeit", "Digital council work", 2, PhaseStatus.PLANNED,
     ["Zentrale Dienste", "Bauen und Umwelt"],
     "Sitzungsunterlagen, Einladungen und Protokolle für Rat und Ausschüsse gibt es nur noch digital."),
]


def half_year(day: date, shift: int) -> tuple[str, date]:
    """The label and first day of the half-year ``shift`` half-years after the one of ``day``."""
    index = day.year * 2 + (0 if day.month <= 6 else 1) + shift
    year, half = divmod(index, 2)
    return f"{year}-H{half + 1}", date(year, 1 if half == 0 else 7, 1)


def load_phases(today: date) -> dict[str, RolloutPhase]:
    departments = {d.name: d for d in db.session.scalars(select(Department))}
    phases = {}
    for slug, title, title_en, shift, status, affected, goals in PHASES:
        period, start = half_year(today, shift)
        # The active phase goes live in three weeks; the others in the middle of their half-year.
        go_live = today + timedelta(days=20) if shift == 0 else start + timedelta(days=90)
        phase = RolloutPhase(slug=slug, title=title, title_en=title_en, period=period, status=status.value,
                             go_live=go_live, goals=goals, departments=[departments[name] for name in affected])
        db.session.add(phase)
        phases[slug] = phase
    db.session.flush()
    return phases
