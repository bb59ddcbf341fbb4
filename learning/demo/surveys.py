"""Demo surveys: ADKAR readiness for the electronic file in two rounds, and its technology acceptance.

The answers are generated (seeded, so every demo looks the same) to tell a story: before the
first round people knew why the e-file comes but not yet how to work with it (barrier point
Knowledge); after training the knowledge gap closed and Ability became the weak point. Some teams
answered too rarely, so their figures, and those of the next-smallest team beside them, are hidden.
The second round is open, and anna has not answered it yet.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from learning.db import db
from learning.org.audience import AudienceKind
from learning.org.models import Department, Team, User
from learning.phases.models import RolloutPhase
from learning.surveys.instruments import apply_template, template_title
from learning.surveys.models import (
    Instrument,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    SurveyWave,
)

MIN_RESPONSES, MIN_COMMENTS = 5, 10

# How many members of each team answered: ADKAR round 1, ADKAR round 2 (so far), technology acceptance.
ANSWERED = {
    "Bürgerbüro": (6, 5, 6), "Standesamt": (5, 5, 5), "Soziales": (3, 5, 4),
    "Kämmerei": (5, 5, 5), "Steuern und Abgaben": (5, 4, 5), "Kasse": (4, 5, 5),
    "Personal": (5, 3, 5), "IT und Digitalisierung": (6, 6, 7),
}

# Mean of each ADKAR element per department and round: (awareness, desire, knowledge, ability, reinforcement).
ADKAR_MEANS = {
    1: {"Bürgerservice": (4.2, 3.7, 2.3, 2.9, 3.1), "Finanzen": (3.9, 3.1, 2.4, 2.8, 2.9),
        "Zentrale Dienste": (4.5, 4.2, 3.0, 3.5, 3.3)},
    2: {"Bürgerservice": (4.4, 3.9, 3.7, 2.5, 3.3), "Finanzen": (4.1, 3.5, 3.6, 2.6, 3.2),
        "Zentrale Dienste": (4.6, 4.3, 4.1, 3.3, 3.6)},
}
# Technology acceptance per department: (usefulness, ease of use) on 1-7.
TAM_MEANS = {"Bürgerservice": (5.3, 4.1), "Finanzen": (4.8, 3.9), "Zentrale Dienste": (5.9, 5.2)}

ADKAR_COMMENTS = [
    "Mehr Zeit zum Üben am echten System, nicht nur in der Schulung.",
    "Eine feste Ansprechperson im Team für Fragen zur E-Akte.",
    "Kurze Anleitungen zum Nachschlagen, am besten mit Bildschirmfotos.",
    "Dass der Scanner im Posteingang zuverlässig funktioniert.",
    "Klare Regeln, was noch auf Papier bleiben darf.",
    "Eine Übergangszeit, in der wir Fehler machen dürfen.",
    "Weniger Parallelarbeit: Papier und E-Akte gleichzeitig ist anstrengend.",
    "Schulung für die Aktenplan-Struktur, nicht nur für die Bedienung.",
    "Ein zweiter Bildschirm am Arbeitsplatz.",
    "Rückmeldung, ob wir die Akten richtig ablegen.",
    "Mehr Informationen dazu, wie die Vertretung im Urlaub funktioniert.",
    "Sprechstunden der Projektgruppe vor Ort.",
]
TAM_COMMENTS = [
    "Die Suche findet Vorgänge nicht, wenn das Aktenzeichen anders geschrieben ist.",
    "Das Zeichnen von Dokumenten dauert zu viele Klicks.",
    "Vorlagen für häufige Schreiben direkt im System wären hilfreich.",
    "Die Mitzeichnung klappt gut, das spart viel Laufzeit.",
    "Ladezeiten am Vormittag sind zu lang.",
    "Die Ablage in der richtigen Akte ist noch unübersichtlich.",
    "Die Schulungsvideos haben mir sehr geholfen.",
    "Die Vertretungsregelung im System ist schwer zu finden.",
    "Mobil kann ich nicht auf die Akten zugreifen.",
    "Gut, dass keine Akten mehr gesucht werden müssen.",
    "Die Benachrichtigungen per E-Mail sind zu viele.",
]


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _survey(instrument: Instrument, phase: RolloutPhase, creator: User | None, waves: list[tuple[date, date, str]],
            opened_at: datetime) -> Survey:
    de, en = template_title(instrument, phase.title, phase.title_en)
    survey = Survey(title=de, title_en=en, phase_id=phase.id, anonymous=True, audience=AudienceKind.PHASE.value,
                    audience_values=[], min_responses=MIN_RESPONSES, min_comments=MIN_COMMENTS,
                    created_by_id=creator.id if creator else None, opened_at=opened_at)
    apply_template(survey, instrument)
    for number, (opens_on, closes_on, label) in enumerate(waves, start=1):
        survey.waves.append(SurveyWave(number=number, opens_on=opens_on, closes_on=closes_on, label=label))
    db.session.add(survey)
    db.session.flush()
    return survey


def _respond(survey: Survey, wave: SurveyWave, person, taken_on: date, values: dict[int, object]) -> None:
    """Participation and response as the survey service writes them: two rows, nothing linking them."""
    user_id, department_id, team_id = person
    db.session.add(SurveyParticipation(survey_id=survey.id, wave_id=wave.id, user_id=user_id, taken_on=taken_on))
    response = SurveyResponse(survey_id=survey.id, wave_id=wave.id, department_id=department_id, team_id=team_id)
    db.session.add(response)
    db.session.flush()
    for question_id, value in values.items():
        if isinstance(value, str):
            db.session.add(SurveyAnswer(response_id=response.id, question_id=question_id, text=value))
        else:
            db.session.add(SurveyAnswer(response_id=response.id, question_id=question_id, value=value))


def load_surveys(today: date, phases: dict[str, RolloutPhase], seed: int = 2030) -> dict[str, int]:
    phase = phases.get("e-akte")
    if phase is None:
        return {}
    rng = random.Random(seed)
    paul = db.session.scalar(select(User).where(User.username == "paul"))
    affected = {d.id for d in phase.departments}
    rows = db.session.execute(
        select(User.id, User.username, Team.name, Team.id, Department.id, Department.name)
        .join(Team, User.team_id == Team.id).join(Department, Team.department_id == Department.id)
        .where(User.active.is_(True), Department.id.in_(affected)).order_by(User.id)
    ).all()
    by_team: dict[str, list] = defaultdict(list)
    for row in rows:
        by_team[row.name].append(row)

    def opened(day: date) -> datetime:
        return datetime.combine(day, time(8, 0), tzinfo=UTC)

    adkar = _survey(Instrument.ADKAR, phase, paul,
                    [(today - timedelta(days=100), today - timedelta(days=86), "vor den Schulungen"),
                     (today - timedelta(days=6), today + timedelta(days=8), "vor dem Start")],
                    opened(today - timedelta(days=101)))
    tam = _survey(Instrument.TAM, phase, paul,
                  [(today - timedelta(days=40), today - timedelta(days=27), "Pilotbetrieb")],
                  opened(today - timedelta(days=41)))

    adkar_items = [q for q in adkar.questions if q.construct]
    adkar_text = next(q for q in adkar.questions if q.question_kind == QuestionKind.TEXT)
    tam_items = [q for q in tam.questions if q.construct]
    tam_text = next(q for q in tam.questions if q.question_kind == QuestionKind.TEXT)
    elements = ("awareness", "desire", "knowledge", "ability", "reinforcement")
    responses = 0
    for team_name, members in by_team.items():
        counts = ANSWERED.get(team_name, (0, 0, 0))
        department = members[0][5]
        # anna has not answered the open round yet: that survey is waiting for her.
        candidates = [m for m in members if m.username not in ("paul", "admin")]
        for round_index, wave in enumerate(adkar.waves, start=1):
            pool = [m for m in candidates if not (round_index == 2 and m.username == "anna")]
            chosen = rng.sample(pool, min(counts[round_index - 1], len(pool)))
            means = ADKAR_MEANS[round_index][department]
            for member in chosen:
                offset = rng.gauss(0, 0.45)
                latent = {e: means[i] + offset + rng.gauss(0, 0.35) for i, e in enumerate(elements)}
                values: dict[int, object] = {q.id: _clip(latent[q.construct] + rng.gauss(0, 0.45), 1, 5)
                                             for q in adkar_items}
                if rng.random() < 0.45:
                    values[adkar_text.id] = rng.choice(ADKAR_COMMENTS)
                taken = min(wave.opens_on + timedelta(days=rng.randint(0, 9)), today)
                _respond(adkar, wave, (member[0], member[4], member[3]), taken, values)
                responses += 1
        chosen = rng.sample(candidates, min(counts[2], len(candidates)))
        useful, easy = TAM_MEANS[department]
        for member in chosen:
            offset = rng.gauss(0, 0.6)
            latent = {"usefulness": useful + offset + rng.gauss(0, 0.4),
                      "ease_of_use": easy + offset + rng.gauss(0, 0.5)}
            values = {}
            for q in tam_items:
                answer = _clip(latent[q.construct] + rng.gauss(0, 0.55), 1, 7)
                values[q.id] = 8 - answer if q.reverse else answer
            if rng.random() < 0.4:
                values[tam_text.id] = rng.choice(TAM_COMMENTS)
            _respond(tam, tam.waves[0], (member[0], member[4], member[3]),
                     tam.waves[0].opens_on + timedelta(days=rng.randint(0, 10)), values)
            responses += 1

    # A draft the project group is still preparing.
    draft = Survey(title="", anonymous=True, audience=AudienceKind.EVERYONE.value, audience_values=[],
                   min_responses=MIN_RESPONSES, min_comments=MIN_COMMENTS, created_by_id=paul.id if paul else None)
    draft.title, draft.title_en = template_title(Instrument.ENPS)
    apply_template(draft, Instrument.ENPS)
    draft.waves.append(SurveyWave(number=1, opens_on=today + timedelta(days=14), closes_on=today + timedelta(days=28)))
    db.session.add(draft)
    db.session.commit()
    return {"surveys": 3, "survey_responses": responses}
