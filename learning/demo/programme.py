"""The demo programme: rollout phases of Gemeinde Musterhausen around today's half-year."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learning.db import db
from learning.org.models import Department, User
from learning.phases.models import PhaseFaq, PhaseStatus, RolloutPhase

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
    people = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(
        {name for names in CONTACTS.values() for name in names})))}
    phases = {}
    for slug, title, title_en, shift, status, affected, goals in PHASES:
        period, start = half_year(today, shift)
        # The active phase goes live in three weeks; the others in the middle of their half-year.
        go_live = today + timedelta(days=20) if shift == 0 else start + timedelta(days=90)
        phase = RolloutPhase(slug=slug, title=title, title_en=title_en, period=period, status=status.value,
                             go_live=go_live, goals=GOALS.get(slug, goals), changes=CHANGES.get(slug, ""),
                             departments=[departments[name] for name in affected],
                             contacts=[people[name] for name in CONTACTS.get(slug, ()) if name in people])
        phase.faq = [PhaseFaq(position=n, question=question, answer=answer)
                     for n, (question, answer) in enumerate(FAQ.get(slug, ()), start=1)]
        db.session.add(phase)
        phases[slug] = phase
    db.session.flush()
    return phases


# Contact persons per phase (usernames of the demo logins): the project group and the line managers.
CONTACTS = {
    "onlinedienste": ["paul", "mara"],
    "e-rechnung": ["paul"],
    "mobiles-arbeiten": ["paul", "admin"],
    "e-akte": ["paul", "mara"],
    "personalakte": ["paul", "admin"],
    "ratsarbeit": ["paul"],
}

# The goals in full (Markdown); the one-liners in PHASES are the short form.
GOALS = {
    "onlinedienste": (
        "Bürgerinnen und Bürger stellen die 20 häufigsten Anträge online, rund um die Uhr und ohne Termin.\n\n"
        "- Anträge kommen **strukturiert und vollständig** im Fachbereich an, ohne Abtippen.\n"
        "- Die Bearbeitungszeit für Meldebescheinigungen sinkt von fünf auf zwei Arbeitstage.\n"
        "- Mindestens ein Drittel der Anträge kommt nach einem Jahr online."
    ),
    "e-rechnung": (
        "Rechnungen kommen nur noch elektronisch an (XRechnung) und werden digital geprüft, freigegeben und "
        "gebucht.\n\n"
        "- Kein Ausdrucken, kein Laufzettel, keine Hauspost mehr für Rechnungen.\n"
        "- Skontofristen werden eingehalten, weil die Freigabe nicht mehr im Postfach liegt."
    ),
    "mobiles-arbeiten": (
        "Alle Beschäftigten können sicher von unterwegs und von zu Hause arbeiten.\n\n"
        "- Jede und jeder hat ein Notebook mit VPN und Zwei-Faktor-Anmeldung.\n"
        "- Die Dienstvereinbarung zum mobilen Arbeiten regelt Erreichbarkeit und Arbeitszeit."
    ),
    "e-akte": (
        "Akten werden elektronisch geführt; Papier wird beim Posteingang gescannt.\n\n"
        "- Vorgänge sind von jedem Arbeitsplatz aus auffindbar, auch im mobilen Arbeiten.\n"
        "- Vertretungen finden den Stand eines Vorgangs ohne Rückfrage.\n"
        "- Die Aufbewahrungsfristen werden automatisch überwacht."
    ),
    "personalakte": (
        "Die Personalakte wird digital geführt; Beschäftigte sehen ihre eigenen Unterlagen online.\n\n"
        "- Anträge auf Urlaub, Fortbildung und Nebentätigkeit laufen digital.\n"
        "- Der Zugriff ist streng geregelt und wird protokolliert."
    ),
    "ratsarbeit": (
        "Sitzungsunterlagen, Einladungen und Protokolle für Rat und Ausschüsse gibt es nur noch digital.\n\n"
        "- Ratsmitglieder erhalten Tablets mit der Ratsinformations-App.\n"
        "- Vorlagen werden im Sitzungsdienst digital erstellt und abgestimmt."
    ),
}

# What changes for whom (Markdown)
CHANGES = {
    "onlinedienste": (
        "**Bürgerbüro und Standesamt:** Online-Anträge landen im Postkorb des Fachverfahrens. Sie prüfen "
        "sie dort und antworten über das Servicekonto statt per Brief.\n\n"
        "**Ordnungsamt und Gewerbe:** Gewerbeanmeldungen und Anträge auf Sondernutzung kommen online; "
        "die Gebühr ist schon bezahlt.\n\n"
        "**Alle anderen:** Für Sie ändert sich nichts; verweisen Sie Bürgerinnen und Bürger gern auf das Portal."
    ),
    "e-rechnung": (
        "**Kämmerei und Kasse:** Rechnungen kommen über das Rechnungseingangsportal und werden im "
        "Workflow sachlich und rechnerisch geprüft.\n\n"
        "**Alle, die Rechnungen freigeben:** Sie erhalten eine Aufgabe im Postkorb statt eines Laufzettels; "
        "die Freigabe erfolgt mit einem Klick.\n\n"
        "**Lieferanten:** Papierrechnungen werden nicht mehr angenommen."
    ),
    "mobiles-arbeiten": (
        "**Alle Beschäftigten:** Sie erhalten ein Notebook statt des Arbeitsplatzrechners und melden sich "
        "mit der Authenticator-App an.\n\n"
        "**Führungskräfte:** Sie vereinbaren mit Ihrem Team, wann wer erreichbar ist.\n\n"
        "**IT und Digitalisierung:** Sie betreuen die Geräte auch aus der Ferne."
    ),
    "e-akte": (
        "**Bürgerservice, Finanzen und Zentrale Dienste:** Neue Vorgänge legen Sie ab dem Go-live nur noch "
        "in der E-Akte an. Papierakten werden nicht mehr fortgeführt, sondern bei Bedarf gescannt.\n\n"
        "**Poststelle:** Die Eingangspost wird gescannt und digital verteilt; das Original wird drei Monate "
        "aufbewahrt und dann vernichtet.\n\n"
        "**Führungskräfte:** Mitzeichnung und Schlusszeichnung laufen im digitalen Umlauf.\n\n"
        "**Alle:** Vor dem Go-live absolvieren Sie den Kurs *E-Akte: Grundlagen*."
    ),
    "personalakte": (
        "**Personal:** Die Personalakten werden gescannt und künftig nur noch digital geführt.\n\n"
        "**Alle Beschäftigten:** Sie sehen Ihre eigene Personalakte im Mitarbeiterportal und stellen Anträge "
        "online.\n\n"
        "**Führungskräfte:** Urlaubs- und Fortbildungsanträge genehmigen Sie im Portal."
    ),
    "ratsarbeit": (
        "**Sitzungsdienst:** Vorlagen, Einladungen und Niederschriften entstehen im Ratsinformationssystem.\n\n"
        "**Fachbereiche mit Vorlagen (v. a. Bauen und Umwelt):** Sie schreiben Vorlagen im System und "
        "zeichnen sie dort mit.\n\n"
        "**Rat und Ausschüsse:** Die Unterlagen kommen auf das Tablet statt in die Post."
    ),
}

# question, answer (Markdown)
FAQ = {
    "onlinedienste": [
        ("Müssen Bürgerinnen und Bürger jetzt online kommen?",
         "Nein. Der Besuch im Bürgerbüro bleibt möglich. Das Portal ist ein zusätzliches Angebot."),
        ("Wer hilft, wenn ein Online-Antrag hängen bleibt?",
         "Melden Sie sich beim Team IT und Digitalisierung, Durchwahl -250, oder schreiben Sie über den "
         "Feedback-Kanal dieser Phase."),
        ("Wie erkenne ich einen Online-Antrag im Fachverfahren?",
         "Online-Anträge tragen im Postkorb das Kennzeichen **OZG** und haben alle Pflichtangaben."),
    ],
    "e-rechnung": [
        ("Was passiert mit Rechnungen, die doch noch auf Papier kommen?",
         "Die Kasse schickt sie mit einem Hinweis auf das Rechnungseingangsportal an den Absender zurück."),
        ("Wer vertritt mich bei der Freigabe im Urlaub?",
         "Tragen Sie Ihre Vertretung im Workflow unter *Abwesenheit* ein; die Aufgaben gehen dann automatisch "
         "an sie."),
    ],
    "mobiles-arbeiten": [
        ("Wie viele Tage darf ich mobil arbeiten?",
         "Bis zu drei Tage pro Woche, nach Absprache im Team. Die Einzelheiten regelt die Dienstvereinbarung."),
        ("Was tue ich, wenn die Anmeldung mit der Authenticator-App nicht klappt?",
         "Rufen Sie den IT-Service an (Durchwahl -250). Halten Sie Ihr Diensthandy bereit."),
        ("Darf ich private Geräte nutzen?",
         "Nein. Dienstliche Daten verarbeiten Sie nur auf dienstlichen Geräten."),
    ],
    "e-akte": [
        ("Was passiert mit meinen Papierakten?",
         "Laufende Papierakten werden bis zum Abschluss weitergeführt oder bei Bedarf gescannt. Neue Vorgänge "
         "legen Sie ab dem Go-live nur noch in der E-Akte an."),
        ("Muss ich alte Akten selbst scannen?",
         "Nein. Die Poststelle scannt auf Anforderung; stellen Sie einen Scanauftrag über das Formular "
         "*Scanauftrag* im Intranet."),
        ("Gibt es eine Schulung vor dem Go-live?",
         "Ja. Der Kurs **E-Akte: Grundlagen** ist für alle betroffenen Fachbereiche Pflicht und bis zwei "
         "Wochen vor dem Go-live abzuschließen. Zusätzlich gibt es Präsenzschulungen im Schulungsraum."),
        ("Was, wenn das System am Go-live-Tag ausfällt?",
         "Dann arbeiten Sie wie bisher auf Papier weiter; die Vorgänge werden später nacherfasst. Der "
         "IT-Service informiert per E-Mail."),
    ],
    "personalakte": [
        ("Wer darf meine digitale Personalakte sehen?",
         "Nur die zuständige Sachbearbeitung im Personal und Sie selbst. Jeder Zugriff wird protokolliert; "
         "der Personalrat hat der Lösung zugestimmt."),
        ("Werden meine Papierunterlagen vernichtet?",
         "Ja, nach dem Scannen und einer Qualitätsprüfung. Originale mit Beweiswert (z. B. Urkunden) "
         "bekommen Sie zurück."),
    ],
    "ratsarbeit": [
        ("Bekommen Ratsmitglieder weiterhin Papierunterlagen?",
         "Nur auf Antrag und in begründeten Ausnahmefällen. Alle anderen erhalten ein Tablet."),
        ("Ändert sich für Fachbereiche etwas beim Schreiben von Vorlagen?",
         "Ja. Vorlagen entstehen künftig im Ratsinformationssystem mit festen Vorlagen-Mustern. Eine Schulung "
         "dazu gibt es vor dem Start."),
    ],
}
