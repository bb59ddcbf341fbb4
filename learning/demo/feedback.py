"""Demo feedback: questions, ideas, concerns and praise from the staff of Gemeinde Musterhausen.

Two posts are in the general channel, which belongs to no phase.

Posts in the done phase "onlinedienste" and the active phase "e-akte" went through the whole
workflow, so that their "You said, we did" pages have content; paul answers for the project group.
Status changes older than three days count as already delivered; newer ones wait for the reminders.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from learning.db import db
from learning.feedback.models import (
    FeedbackComment,
    FeedbackPost,
    FeedbackStatusChange,
    FeedbackSubscription,
    FeedbackVote,
)
from learning.org.models import Team, User
from learning.phases.models import RolloutPhase
from learning.roles import Role

# Who wrote a post: a demo login, ("team", n) for the n-th employee of a team, or None (anonymous).
# phase, kind, author, days ago, title, text, votes,
# steps [(status, days after posting, reason)], official reply (days after posting, text) or None,
# comments [(author, days after posting, text)]
POSTS = [
    ("onlinedienste", "idea", ("Standesamt", 1), 520, "Eingangsbestätigung per E-Mail für Antragstellende",
     "Viele Bürgerinnen und Bürger rufen nach einem Online-Antrag an und fragen, ob er angekommen ist. "
     "Eine automatische **Eingangsbestätigung mit Aktenzeichen** per E-Mail würde uns im Standesamt viele "
     "Anrufe ersparen.", 14,
     [("under_review", 3, ""), ("planned", 10, "Der Portal-Anbieter liefert die Funktion mit dem nächsten Update."),
      ("in_progress", 40, ""), ("implemented", 75, "")],
     (75, "Seit dem Update im Frühjahr erhalten Antragstellende nach jedem Online-Antrag automatisch eine "
          "Eingangsbestätigung mit Aktenzeichen. Die Anrufe dazu sind im Bürgerbüro deutlich zurückgegangen – "
          "danke für den Hinweis!"),
     [("anna", 1, "Das würde auch uns im Bürgerbüro sehr helfen.")]),
    ("onlinedienste", "concern", None, 500, "Anträge kommen doppelt – online und zusätzlich auf Papier",
     "Einige Anträge erreichen uns zweimal: online über das Portal und zusätzlich als Ausdruck per Post. "
     "Dann bearbeiten zwei Kolleginnen denselben Fall. Wie sollen wir damit umgehen?", 9,
     [("under_review", 2, ""), ("planned", 9, "Wir richten beim Posteingang eine Dublettenprüfung ein."),
      ("implemented", 60, "")],
     (60, "Der Posteingang gleicht Papieranträge jetzt mit den Online-Anträgen der letzten 14 Tage ab (Name, "
          "Geburtsdatum, Leistung). Doppelte Anträge werden zusammengeführt, bevor sie in den Fachbereich gehen."),
     []),
    ("onlinedienste", "question", "anna", 480, "Wer prüft die hochgeladenen Nachweise?",
     "Beim Online-Antrag auf einen Bewohnerparkausweis laden die Leute Fotos vom Fahrzeugschein hoch. Müssen "
     "wir die Originale trotzdem sehen, oder reicht das Foto?", 6,
     [("answered", 4, "")],
     (4, "Ein gut lesbares Foto reicht. Nur bei Zweifeln an der Echtheit bitten Sie um Vorlage des Originals. "
         "Die Dienstanweisung ist entsprechend ergänzt (Intranet → Bürgerservice → Dienstanweisungen)."),
     []),
    ("onlinedienste", "praise", ("Gewerbe", 1), 450, "Gewerbeanmeldung online: großes Lob!",
     "Seit die Gewerbeanmeldung online geht, kommen die Daten vollständig bei uns an und wir tippen nichts "
     "mehr ab. Danke an alle, die das möglich gemacht haben!", 11,
     [("answered", 2, "")],
     (2, "Vielen Dank! Wir geben das Lob gern an das Team IT und Digitalisierung weiter."),
     []),
    ("e-akte", "concern", None, 40, "Vertretung beim Scannen im Posteingang ist ungeklärt",
     "Wenn die Kollegin im Posteingang krank oder im Urlaub ist, wird nichts gescannt und die Post bleibt "
     "liegen. Wer übernimmt das Scannen in der Vertretung? Ich möchte nicht, dass Fristen verpasst werden.", 17,
     [("under_review", 2, ""), ("planned", 8, "Ein Scan-Team mit fester Vertretungsregel wird gebildet.")],
     (8, "Danke für den wichtigen Hinweis. Ab dem Go-live gibt es ein **Scan-Team aus drei Beschäftigten** mit "
         "einem festen Vertretungsplan. Die Schulung dafür findet zwei Wochen vor dem Go-live statt."),
     [("mara", 3, "Bitte auch an die Urlaubszeit im Sommer denken.")]),
    ("e-akte", "idea", "anna", 27, "Schulung mit echten Beispielen aus dem Bürgerbüro",
     "Die Einführung in die E-Akte war sehr allgemein. Könnten wir an echten (anonymisierten) Vorgängen aus "
     "dem Bürgerbüro üben, zum Beispiel an einer Meldebescheinigung oder einem Fundsachenvorgang?", 12,
     [("under_review", 1, ""), ("planned", 5, ""), ("in_progress", 10, ""), ("implemented", 25, "")],
     (25, "Umgesetzt: Der Kurs „E-Akte Grundlagen“ enthält jetzt eine Übungsakte mit drei Vorgängen aus dem "
          "Bürgerbüro. Außerdem gibt es jeden Donnerstag eine offene Übungsstunde im Schulungsraum."),
     []),
    ("e-akte", "question", "mara", 30, "Dürfen Papierakten nach dem Scannen vernichtet werden?",
     "In meinen Teams stehen noch viele Ordner. Dürfen wir Papierunterlagen nach dem Scannen vernichten, oder "
     "müssen wir sie aufbewahren? Und wenn ja, wie lange?", 8,
     [("answered", 3, "")],
     (3, "Nach dem ersetzenden Scannen (TR-RESISCAN) werden die meisten Papierunterlagen nach drei Monaten "
         "vernichtet. Ausnahmen, etwa Urkunden oder gesiegelte Unterlagen, stehen in der Scananweisung. Bitte "
         "vernichten Sie nichts, bevor die Qualitätskontrolle abgeschlossen ist."),
     []),
    ("e-akte", "idea", ("Kämmerei", 1), 25, "Zweiter Bildschirm für die Sachbearbeitung",
     "Wenn ich die E-Akte und das Fachverfahren gleichzeitig offen habe, muss ich ständig zwischen den Fenstern "
     "wechseln. Ein zweiter Bildschirm an jedem Arbeitsplatz würde viel Zeit sparen.", 21,
     [("under_review", 2, ""), ("planned", 12, "Die Beschaffung von 60 zusätzlichen Monitoren ist beantragt.")],
     (12, "Wir haben 60 zusätzliche Monitore im Haushalt beantragt. Die Auslieferung beginnt in den Bereichen, "
          "die zuerst mit der E-Akte arbeiten: Bürgerservice und Finanzen."),
     [("mara", 1, "Das würde auch im Standesamt helfen."), (("Kasse", 1), 2, "Bei uns in der Kasse genauso.")]),
    ("e-akte", "concern", None, 20, "Wird protokolliert, wie schnell ich Vorgänge bearbeite?",
     "Die E-Akte speichert, wer wann was geöffnet hat. Wird das genutzt, um unsere Arbeitsgeschwindigkeit zu "
     "kontrollieren?", 15,
     [("answered", 3, "")],
     (3, "Nein. Die Protokolldaten dienen nur der Nachvollziehbarkeit von Akten und dem Datenschutz. Eine "
         "Auswertung zur Leistungs- oder Verhaltenskontrolle schließt die Dienstvereinbarung mit dem Personalrat "
         "aus. Den Text der Dienstvereinbarung finden Sie im Intranet."),
     []),
    ("e-akte", "idea", ("Bauverwaltung", 1), 15, "Eigene Ordnerstruktur für jede Sachbearbeiterin",
     "Ich fände es praktisch, wenn jede und jeder in der E-Akte eigene Ordner anlegen könnte, so wie bisher auf "
     "dem Laufwerk.", 2,
     [("under_review", 2, ""),
      ("declined", 6, "Der Aktenplan ist für alle verbindlich, damit Vertretungen Akten sofort finden. Persönliche "
                      "Ablagen gibt es trotzdem: Über „Favoriten“ und „Wiedervorlagen“ stellen Sie sich Ihre "
                      "Vorgänge zusammen.")],
     None, []),
    ("e-akte", "question", ("Soziales", 1), 3, "Wie unterschreibe ich Bescheide künftig?",
     "Bisher unterschreibe ich Bescheide mit Kugelschreiber. Wie funktioniert das in der E-Akte – brauche ich "
     "dafür eine eigene Signaturkarte?", 4,
     [], None, []),
    ("personalakte", "concern", None, 6, "Wer kann meine digitale Personalakte einsehen?",
     "Bisher liegt meine Personalakte verschlossen im Personalamt. Wer wird die digitale Akte sehen können – "
     "auch meine Führungskraft?", 10,
     [("under_review", 1, "")], None, []),
    # The general channel (no phase): the platform and the change as a whole.
    (None, "question", ("Kasse", 1), 20, "Kann ich die Lernplattform auch auf dem Diensthandy nutzen?",
     "Im Außendienst habe ich oft nur das Diensthandy dabei. Funktionieren die Kurse auch dort?", 7,
     [("answered", 2, "")],
     (2, "Ja. Die Plattform ist für kleine Bildschirme gebaut; Kurse, Quiz und Befragungen gehen auch auf dem "
         "Diensthandy. Für längere Lektionen empfehlen wir trotzdem den Arbeitsplatz."),
     []),
    (None, "idea", ("Bürgerbüro", 2), 5, "Sprechstunde der Projektgruppe einmal im Monat",
     "Manche Fragen lassen sich im Gespräch schneller klären als schriftlich. Wie wäre eine offene Sprechstunde "
     "der Projektgruppe, zum Beispiel am ersten Dienstag im Monat?", 5,
     [], None, [("anna", 1, "Gute Idee, ich wäre dabei.")]),
]

DELIVERED_AFTER_DAYS = 3
DEMO_LOGINS = {"anna", "mara", "paul", "admin", "lena"}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_feedback(today: date, phases: dict[str, RolloutPhase], seed: int = 2030) -> dict[str, int]:
    rng = random.Random(seed)
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    by_username = {u.username: u for u in users}
    teams = {t.name: t.id for t in db.session.scalars(select(Team))}
    paul = by_username.get("paul") or next((u for u in users if u.has_role(Role.PROJECT_GROUP)), None)

    def person(who) -> User | None:
        if who is None:
            return None
        if isinstance(who, str):
            return by_username[who]
        team, n = who
        members = [u for u in users if u.team_id == teams[team] and u.username not in DEMO_LOGINS
                   and not u.has_role(Role.MANAGER)]
        return members[n % len(members)]

    count = 0
    for slug, kind, who, days_ago, title, body, votes, steps, reply, comments in POSTS:
        phase = phases.get(slug) if slug is not None else None  # None: the general channel
        if slug is not None and phase is None:
            continue
        author = person(who)
        posted_on = today - timedelta(days=days_ago)
        post = FeedbackPost(phase_id=phase.id if phase else None, kind=kind, title=title, body=body,
                            anonymous=author is None, author_id=author.id if author else None, created_on=posted_on,
                            created_at=_at(posted_on, 8 + rng.randint(0, 8)) if author else None,
                            status="new", vote_count=0)
        db.session.add(post)
        db.session.flush()
        status = "new"
        for new_status, after, reason in steps:
            changed_on = posted_on + timedelta(days=after)
            changed_at = _at(changed_on, 14)
            db.session.add(FeedbackStatusChange(
                post_id=post.id, from_status=status, to_status=new_status, reason=reason, changed_at=changed_at,
                changed_by_id=paul.id if paul else None,
                notified_at=changed_at if (today - changed_on).days > DELIVERED_AFTER_DAYS else None,
            ))
            status = new_status
        post.status = status
        for commenter, after, text in comments:
            db.session.add(FeedbackComment(post_id=post.id, author_id=person(commenter).id, body=text,
                                           created_at=_at(posted_on + timedelta(days=after), 11)))
        if reply and paul:
            after, text = reply
            db.session.add(FeedbackComment(post_id=post.id, author_id=paul.id, body=text, official=True,
                                           created_at=_at(posted_on + timedelta(days=after), 13)))
        candidates = [u for u in users if author is None or u.id != author.id]
        voters = rng.sample(candidates, min(votes, len(candidates)))
        db.session.add_all(FeedbackVote(post_id=post.id, user_id=v.id) for v in voters)
        post.vote_count = len(voters)
        followers = {v.id for v in voters} | ({author.id} if author else set())
        db.session.add_all(FeedbackSubscription(post_id=post.id, user_id=uid) for uid in sorted(followers))
        count += 1
    db.session.commit()
    return {"feedback_posts": count}
