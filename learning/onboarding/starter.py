"""A starter template for German municipalities: what a good first 100 days in an administration need.

``flask onboarding starter-template`` installs it as the default template of a new platform (and
the demo uses it too). Courses are linked by slug where they exist; where a course is missing
(not synced yet, or removed), the task is kept without the link and says which course to take.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from learning.onboarding.models import OwnerRole
from learning.training.models import Course

NEW_HIRE, MANAGER, BUDDY, IT = OwnerRole.NEW_HIRE, OwnerRole.MANAGER, OwnerRole.BUDDY, OwnerRole.IT


@dataclass(frozen=True)
class StarterTask:
    owner: OwnerRole
    offset: int
    title: str
    description: str
    course: str | None = None  # the slug of a course in courses/


DEFAULT_NAME = "Einarbeitung in der Gemeindeverwaltung"
DEFAULT_DESCRIPTION = ("Gilt für alle neuen Kolleginnen und Kollegen, deren Fachbereich keine eigene Vorlage hat. "
                       "Änderungen bitte mit dem Personalrat abstimmen.")

DEFAULT_TASKS = [
    # Before day one -----------------------------------------------------------------------
    StarterTask(MANAGER, -21, "Einarbeitungsplan für die ersten Wochen erstellen",
                "Legen Sie fest, welche Aufgaben die neue Kollegin oder der neue Kollege in den ersten Wochen "
                "übernimmt, welche Fachverfahren gebraucht werden und wer wobei unterstützt.\n\n"
                "- Welche Vorgänge eignen sich für den Einstieg?\n"
                "- Welche Hospitationen in anderen Teams sind sinnvoll?\n"
                "- Wählen Sie auf der Seite des Onboardings eine **Patin oder einen Paten** aus dem Team."),
    StarterTask(NEW_HIRE, -14, "Unterlagen für die Personalakte einreichen",
                "Bitte senden Sie dem Personalservice vor Ihrem ersten Arbeitstag:\n\n"
                "- Steuer-Identifikationsnummer\n- Sozialversicherungsnummer\n- Bankverbindung\n"
                "- Mitgliedsbescheinigung Ihrer Krankenkasse\n- bei Bedarf Nachweise über Vordienstzeiten\n\n"
                "Fragen beantwortet Ihnen Ihre Führungskraft."),
    StarterTask(IT, -10, "Benutzerkonto, E-Mail-Postfach und Telefonnummer anlegen",
                "Konto im Verzeichnisdienst, Postfach, Durchwahl und Eintrag im Telefonbuch anlegen. "
                "Das Startpasswort geht in einem verschlossenen Umschlag an die Führungskraft."),
    StarterTask(MANAGER, -7, "Team über den Start informieren",
                "Kündigen Sie die neue Kollegin oder den neuen Kollegen im Team an: Name, Aufgaben, erster Tag, "
                "wer die Patenschaft übernimmt."),
    StarterTask(IT, -5, "Arbeitsplatz und Zugänge bereitstellen",
                "Rechner, Monitor, Headset und Telefon aufbauen und testen, Drucker einrichten, Zugang zur "
                "Lernplattform freischalten. Der Arbeitsplatz ist am ersten Tag **startklar**."),
    StarterTask(IT, -5, "Berechtigungen für die Fachverfahren einrichten",
                "Die Rollen und Berechtigungen aus dem Einarbeitungsplan der Führungskraft einrichten. Nur so viel "
                "wie nötig: weitere Rechte folgen, wenn die Aufgaben wachsen."),
    StarterTask(IT, -3, "Dienstausweis, Transponder und Schlüssel vorbereiten",
                "Dienstausweis mit Foto beantragen (das Foto kann am ersten Tag nachgereicht werden), Transponder "
                "für Haupteingang und Büro programmieren, Schlüssel ausgeben lassen."),
    StarterTask(MANAGER, -3, "Willkommensmail mit dem Ablauf des ersten Tages senden",
                "Wann und wo geht es los, wer holt ab, was ist mitzubringen? Nennen Sie auch die Patin oder den "
                "Paten."),
    StarterTask(BUDDY, -2, "Ersten Arbeitstag mit der Führungskraft abstimmen",
                "Klären Sie, wer die neue Kollegin oder den neuen Kollegen am Empfang abholt und wann Sie "
                "gemeinsam Mittag essen."),
    # First day ----------------------------------------------------------------------------
    StarterTask(MANAGER, 0, "Begrüßungsgespräch führen",
                "Nehmen Sie sich eine Stunde Zeit: Aufgaben und Erwartungen, Arbeitszeit und Gleitzeit, "
                "Urlaubsplanung, wichtige Ansprechpersonen, der Einarbeitungsplan."),
    StarterTask(IT, 0, "Einweisung: Anmeldung, Passwort, Drucken, Telefon",
                "Erste Anmeldung mit Passwortwechsel, Zwei-Faktor-Anmeldung, Drucken und Scannen, Telefon und "
                "Voicemail. Dazu: Wie melde ich eine Störung?"),
    StarterTask(BUDDY, 0, "Gemeinsam zu Mittag essen und durchs Haus führen",
                "Kantine, Poststelle, Druckerräume, Teeküche, Fluchtwege und Sammelplatz, Erste-Hilfe-Kasten."),
    StarterTask(NEW_HIRE, 0, "An der Lernplattform anmelden und das eigene Profil prüfen",
                "Melden Sie sich an, prüfen Sie unter *Mein Konto* Ihre Angaben und stellen Sie die Sprache ein."),
    # First week ---------------------------------------------------------------------------
    StarterTask(NEW_HIRE, 2, "Dienstvereinbarungen zu Arbeitszeit und mobiler Arbeit lesen",
                "Die Dienstvereinbarungen finden Sie im Intranet unter *Personal*. Notieren Sie Fragen für das "
                "Gespräch mit Ihrer Führungskraft am Ende der ersten Woche."),
    StarterTask(BUDDY, 3, "Fachverfahren gemeinsam ansehen",
                "Zeigen Sie an echten (oder Test-)Vorgängen, wie die wichtigsten Fachverfahren im Alltag benutzt "
                "werden, und wo die Ablage liegt."),
    StarterTask(MANAGER, 4, "Nach der ersten Woche nachfragen: Wie war der Start?",
                "Ein kurzes Gespräch: Was lief gut, was fehlt noch (Zugänge, Material, Informationen)?"),
    StarterTask(NEW_HIRE, 5, "Sicherheitsunterweisung besuchen",
                "Die Unterweisung zu Arbeitsschutz und Brandschutz ist Pflicht. Termine nennt Ihnen Ihre "
                "Führungskraft."),
    # First month --------------------------------------------------------------------------
    StarterTask(NEW_HIRE, 14, "Kurs „Unser Weg zur digitalen Verwaltung 2030“ abschließen",
                "Der Kurs erklärt, warum und wie die Verwaltung bis 2030 digital arbeitet und was das für Ihre "
                "Arbeit bedeutet.", course="digitalisierung-2030"),
    StarterTask(BUDDY, 14, "Offene Fragen in einer kurzen Runde klären",
                "Eine halbe Stunde bei einem Kaffee: Was ist unklar geblieben, wen sollte die neue Kollegin oder "
                "der neue Kollege noch kennenlernen?"),
    StarterTask(NEW_HIRE, 21, "Kurs „Datenschutz im digitalen Arbeitsalltag“ abschließen",
                "Pflichtkurs für alle, die mit personenbezogenen Daten arbeiten.",
                course="datenschutz-im-digitalen-alltag"),
    StarterTask(NEW_HIRE, 28, "Kurs „Phishing erkennen und IT-Sicherheit im Alltag“ abschließen",
                "Woran Sie gefälschte E-Mails erkennen und was zu tun ist, wenn Sie doch geklickt haben.",
                course="phishing-und-it-sicherheit"),
    StarterTask(MANAGER, 28, "Gespräch nach dem ersten Monat führen",
                "Rückblick auf den ersten Monat, Abgleich mit dem Einarbeitungsplan, nächste Schritte."),
    StarterTask(BUDDY, 29, "Der Führungskraft eine Rückmeldung zur Einarbeitung geben",
                "Wie läuft es aus Ihrer Sicht? Was sollte sich an der Einarbeitung für künftige neue Kolleginnen "
                "und Kollegen ändern?"),
    # First 100 days -----------------------------------------------------------------------
    StarterTask(NEW_HIRE, 60, "Eigene Ziele für das erste Jahr notieren",
                "Was möchten Sie bis zum Ende des ersten Jahres können? Welche Fortbildungen wünschen Sie sich? "
                "Bringen Sie Ihre Notizen zum Zwischengespräch mit."),
    StarterTask(MANAGER, 90, "Zwischengespräch zur Probezeit führen",
                "Halten Sie das Ergebnis fest; bei Bedarf vereinbaren Sie Unterstützung für die restliche "
                "Probezeit."),
    StarterTask(NEW_HIRE, 95, "Rückmeldung zur eigenen Einarbeitung geben",
                "Was hat Ihnen beim Start geholfen, was hat gefehlt? Ihre Rückmeldung verbessert die Einarbeitung "
                "der nächsten neuen Kolleginnen und Kollegen."),
]

# For the demo: the Bürgerservice adds counter work, its specialised procedures and the service portal.
CITIZEN_SERVICE_NAME = "Einarbeitung im Bürgerservice"
CITIZEN_SERVICE_DESCRIPTION = ("Für Bürgerbüro, Standesamt und Soziales: die Standardeinarbeitung plus "
                               "Schalterdienst, Meldewesen und Serviceportal.")
CITIZEN_SERVICE_TASKS = [
    StarterTask(IT, -5, "Zugang zum Meldeverfahren und zur Terminvergabe einrichten",
                "Zugang zum Einwohnermeldeverfahren (Rolle *Sachbearbeitung Schalter*), zum Terminvergabe-System "
                "und zum Kartenlesegerät für den Personalausweis."),
    StarterTask(BUDDY, 2, "Einen Vormittag am Schalter hospitieren lassen",
                "Die neue Kollegin oder der neue Kollege sitzt einen Vormittag mit am Schalter: An- und "
                "Ummeldungen, Ausweise, Führungszeugnisse."),
    StarterTask(NEW_HIRE, 3, "Leitfaden „Datenschutz am Schalter“ lesen",
                "Diskretionsabstand, Bildschirmsperre, keine Auskünfte am Telefon ohne Identitätsprüfung."),
    StarterTask(MANAGER, 10, "Hospitationen in Standesamt und Soziales planen",
                "Je ein halber Tag in den Nachbarteams, damit die neue Kollegin oder der neue Kollege Bürgerinnen "
                "und Bürger richtig weiterleiten kann."),
    StarterTask(NEW_HIRE, 30, "Kurs „Mit dem Online-Serviceportal arbeiten“ abschließen",
                "Welche Leistungen Bürgerinnen und Bürger online beantragen können und wie die Anträge bei uns "
                "ankommen.", course="online-serviceportal"),
]


def resolve_courses(tasks: list[StarterTask], session) -> dict[str, int]:
    """The ids of the courses the tasks link to, by slug, where they exist and are not withdrawn."""
    slugs = {t.course for t in tasks if t.course}
    if not slugs:
        return {}
    return dict(session.execute(
        select(Course.slug, Course.id).where(Course.slug.in_(slugs), Course.archived_at.is_(None))).all())


def install(name: str, description: str, tasks: list[StarterTask], *, department_id: int | None = None,
            actor=None, it_contact_id: int | None = None):
    """Create a template (version 1) with these tasks (flushed); course links are resolved by slug."""
    import uuid

    from learning.audit.services import record
    from learning.db import db
    from learning.onboarding.models import JourneyTemplate, JourneyTemplateTask, JourneyTemplateVersion
    from learning.onboarding.templates import check_free

    check_free(department_id, None)
    courses = resolve_courses(tasks, db.session)
    template = JourneyTemplate(name=name, description=description, department_id=department_id,
                               it_contact_id=it_contact_id, version=1)
    db.session.add(template)
    db.session.flush()
    for position, task in enumerate(sorted(tasks, key=lambda t: t.offset), start=1):
        course_id = courses.get(task.course) if task.course else None
        text = task.description
        if task.course and course_id is None:
            text += f"\n\n(Kurs `{task.course}` ist auf der Plattform noch nicht vorhanden.)"
        db.session.add(JourneyTemplateTask(
            template_id=template.id, version=1, key=uuid.uuid4().hex, position=position, title=task.title,
            description=text, owner_role=task.owner.value, offset_days=task.offset, course_id=course_id))
    # Stored text, in the platform's language (the CLI and the demo run without a request).
    db.session.add(JourneyTemplateVersion(template_id=template.id, version=1,
                                          summary=_("Installed as the starter template"),
                                          created_by_id=getattr(actor, "id", None)))
    record(actor, "onboarding.starter_installed", template, summary=name, department_id=department_id,
           tasks=len(tasks))
    db.session.flush()
    return template
