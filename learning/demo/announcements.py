"""Demo announcements of Gemeinde Musterhausen, written by Paul from the project group."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from learning.announcements.models import Acknowledgement, Announcement, AnnouncementVersion
from learning.db import db
from learning.org.audience import AudienceKind
from learning.org.models import Department, Team, User
from learning.phases.models import RolloutPhase

E_AKTE_V1 = """\
Liebe Kolleginnen und Kollegen,

am **{go_live}** stellen wir in den Fachbereichen Bürgerservice, Finanzen und Zentrale Dienste auf die
**elektronische Akte** um. Ab diesem Tag werden neue Vorgänge nur noch in der E-Akte angelegt.

## Was das für Sie bedeutet

- Papierpost wird ab dem Stichtag in der Poststelle gescannt und erscheint in Ihrem Posteingang der E-Akte.
- Laufende Papierakten schließen Sie bis zum Jahresende ab; sie werden nicht nachträglich digitalisiert.
- Bitte schließen Sie **vor dem Start** die Schulung „E-Akte: Grundlagen“ ab.

Bei Fragen hilft das Team IT und Digitalisierung (Durchwahl 240) oder der Feedback-Kanal der Phase.
"""

E_AKTE_V2 = E_AKTE_V1.replace(
    "- Bitte schließen Sie **vor dem Start** die Schulung „E-Akte: Grundlagen“ ab.",
    "- Bitte schließen Sie **vor dem Start** die Schulung „E-Akte: Grundlagen“ ab.\n"
    "- **Neu:** Personalsachen und Unterlagen mit Gesundheitsdaten bleiben bis zur Einführung der digitalen "
    "Personalakte **in Papierform**. Bitte scannen Sie diese nicht ein.",
)

TRAINING = """\
Für die E-Akte bieten wir zusätzlich zum Online-Kurs **Präsenzschulungen** im Schulungsraum (Rathaus, 2. OG) an:

| Termin | Uhrzeit | Für |
|---|---|---|
| Dienstag | 9–11 Uhr | Bürgerservice |
| Mittwoch | 13–15 Uhr | Finanzen |
| Donnerstag | 9–11 Uhr | Zentrale Dienste |

Melden Sie sich bitte bei Ihrer Führungskraft an. Wer den Online-Kurs schon abgeschlossen hat, kann gerne
trotzdem kommen und eigene Fälle mitbringen.
"""

PROGRAMME = """\
Ein kurzer Zwischenstand zu unserem Ziel **„Verwaltung digital 2030“**:

- Das **Online-Serviceportal** ist seit über einem Jahr in Betrieb; 20 Leistungen können Bürgerinnen und Bürger
  online beantragen.
- Die **E-Rechnung** ist in der Kämmerei eingeführt, Papierrechnungen sind die Ausnahme geworden.
- **Mobiles Arbeiten** ist für alle Beschäftigten möglich, die es wünschen.
- Aktuell läuft die Einführung der **E-Akte**; als Nächstes folgen die digitale Personalakte und die digitale
  Ratsarbeit.

Die Roadmap mit allen Phasen finden Sie auf der Plattform. Vielen Dank für Ihre Mitarbeit!
"""

PERSONALAKTE = """\
Wir laden alle Beschäftigten der Zentralen Dienste zu einer **Informationsveranstaltung zur digitalen
Personalakte** ein. Der Personalrat ist dabei und beantwortet Fragen zur Dienstvereinbarung.

Themen: was digital wird, wer was sehen darf, und wie Sie Ihre eigenen Unterlagen künftig online einsehen.
"""


def _at(day: date, hour: int) -> datetime:
    """A local time of day in the organisation's time zone, as UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def _announcement(author: User, title: str, body: str, published: datetime | None, **fields) -> Announcement:
    announcement = Announcement(title=title, body=body, publish_at=published, created_by_id=author.id,
                                version=1, substantive_version=1, **fields)
    changed = published - timedelta(days=1) if published else None
    announcement.versions.append(AnnouncementVersion(version=1, title=title, body=body, changed_by_id=author.id,
                                                     substantive=True,
                                                     **({"changed_at": changed} if changed else {})))
    db.session.add(announcement)
    return announcement


def load_announcements(today: date, phases: dict[str, RolloutPhase], seed: int = 2030) -> dict[str, int]:
    """Four announcements: the E-Akte go-live (to confirm, changed once substantively), a training hint,
    a programme-wide update and an information event scheduled for next week."""
    rng = random.Random(seed)
    paul = db.session.scalar(select(User).where(User.username == "paul"))
    if paul is None:
        return {"announcements": 0}
    departments = {d.name: d.id for d in db.session.scalars(select(Department))}
    e_akte = phases.get("e-akte")
    go_live = e_akte.go_live if e_akte is not None and e_akte.go_live else today + timedelta(days=20)
    affected = ["Bürgerservice", "Finanzen", "Zentrale Dienste"]

    first_published = _at(today - timedelta(days=9), 8)
    go_live_text = go_live.strftime("%d.%m.%Y")
    start = _announcement(
        paul, f"Start der E-Akte am {go_live_text}", E_AKTE_V1.format(go_live=go_live_text), first_published,
        phase_id=e_akte.id if e_akte else None, audience=AudienceKind.DEPARTMENTS.value,
        audience_values=sorted(departments[name] for name in affected if name in departments),
        pinned=True, requires_ack=True,
    )
    # A substantive change three days ago: everyone is asked to confirm again.
    changed_at = _at(today - timedelta(days=3), 14)
    start.body, start.version, start.substantive_version = E_AKTE_V2.format(go_live=go_live_text), 2, 2
    start.versions.append(AnnouncementVersion(
        version=2, title=start.title, body=start.body, changed_at=changed_at, changed_by_id=paul.id,
        substantive=True, reason="Personalsachen bleiben vorerst in Papierform (Abstimmung mit dem Personalrat).",
    ))

    _announcement(
        paul, "Präsenzschulungen zur E-Akte", TRAINING, _at(today - timedelta(days=6), 9),
        phase_id=e_akte.id if e_akte else None, audience=AudienceKind.DEPARTMENTS.value,
        audience_values=sorted(departments[name] for name in affected if name in departments),
    )
    programme = _announcement(paul, "Verwaltung digital 2030: Zwischenstand", PROGRAMME,
                              _at(today - timedelta(days=30), 10), audience=AudienceKind.EVERYONE.value)
    programme.version = 2  # a typo fixed the day after
    programme.versions.append(AnnouncementVersion(
        version=2, title=programme.title, body=programme.body, changed_at=_at(today - timedelta(days=29), 11),
        changed_by_id=paul.id, substantive=False, reason="Tippfehler korrigiert",
    ))
    personalakte = phases.get("personalakte")
    _announcement(
        paul, "Informationsveranstaltung zur digitalen Personalakte", PERSONALAKTE, _at(today + timedelta(days=7), 8),
        phase_id=personalakte.id if personalakte else None, audience=AudienceKind.DEPARTMENTS.value,
        audience_values=[departments["Zentrale Dienste"]] if "Zentrale Dienste" in departments else [],
    )
    db.session.flush()

    # Confirmations of the go-live announcement: many confirmed the first version, some the second; never anna.
    readers = db.session.scalars(
        select(User.id).join(Team, User.team_id == Team.id).join(Department, Team.department_id == Department.id)
        .where(Department.name.in_(affected), User.active, User.username != "anna")
    ).all()
    acknowledged = 0
    for user_id in readers:
        roll = rng.random()
        if roll < 0.35:
            version, moment = 2, changed_at + timedelta(hours=rng.randint(1, 60))
        elif roll < 0.75:
            version, moment = 1, first_published + timedelta(hours=rng.randint(1, 120))
        else:
            continue
        db.session.add(Acknowledgement(announcement_id=start.id, user_id=user_id, version=version,
                                       acknowledged_at=moment))
        acknowledged += 1
    db.session.commit()
    return {"announcements": 4, "acknowledgements": acknowledged}
