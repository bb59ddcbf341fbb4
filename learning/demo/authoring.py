"""Demo: Lena Vogt, subject expert in Bürgerservice, writes courses in the browser.

One course of hers is published (version 1, with a diagram and a quiz pool: five of seven questions per
attempt), another is a draft nobody but its editors and the project group can see.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from learning.db import db, utcnow
from learning.media.services import Upload, markdown_for, upload_media
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.training.authoring.documents import document_of
from learning.training.authoring.models import CourseDraft, CourseEditor, CourseVersion
from learning.training.models import Course, CourseSource
from learning.training.sync import (
    AnswerSpec,
    CourseSpec,
    LessonSpec,
    QuestionSpec,
    apply_course,
    true_false_answers,
)

DIAGRAM_ALT = ("Ablauf in drei Schritten: 1. Antrag im Serviceportal, 2. Prüfung im Bürgerbüro, "
               "3. Bescheinigung im digitalen Postfach")


def _diagram() -> bytes:
    """Three boxes joined by arrows: the procedure the course explains."""
    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    steps = ["1. Antrag online", "2. Prüfung", "3. Bescheinigung"]
    for n, text in enumerate(steps):
        left = 30 + n * 300
        draw.rounded_rectangle((left, 70, left + 240, 190), radius=16, outline="#004b76", width=5, fill="#e8f1f8")
        draw.text((left + 30, 120), text, fill="#002b45")
        if n < len(steps) - 1:
            draw.line((left + 245, 130, left + 295, 130), fill="#004b76", width=5)
            draw.polygon([(left + 295, 130), (left + 280, 120), (left + 280, 140)], fill="#004b76")
    data = io.BytesIO()
    image.save(data, "PNG")
    return data.getvalue()


def _published_spec(picture: str) -> CourseSpec:
    lessons = [
        LessonSpec(slug="worum-es-geht", position=1, title="Worum es geht", body=(
            "Seit dem Start des Serviceportals beantragen Bürgerinnen und Bürger ihre Meldebescheinigung "
            "online. Das Bürgerbüro prüft den Antrag und stellt die Bescheinigung in das digitale Postfach.\n\n"
            f"{picture}\n\n"
            "!!! tip \"Gut zu wissen\"\n    Eine einfache Meldebescheinigung ist gebührenfrei, wenn sie online "
            "beantragt wird.\n")),
        LessonSpec(slug="antrag-pruefen", position=2, title="Einen Antrag prüfen", body=(
            "## Was Sie prüfen\n\n"
            "| Angabe | Wo Sie sie finden |\n|---|---|\n"
            "| Name und Anschrift | im Melderegister |\n| Identität | Online-Ausweis (eID) im Antrag |\n\n"
            "## Wann Sie nachfragen\n\nFehlt die eID, bitten Sie über das Postfach um einen Nachweis.\n")),
        LessonSpec(slug="bescheinigung-ausstellen", position=3, title="Die Bescheinigung ausstellen", body=(
            "1. Öffnen Sie den Antrag im Fachverfahren.\n2. Wählen Sie *Bescheinigung erstellen*.\n"
            "3. Senden Sie sie mit einem Klick in das Postfach der antragstellenden Person.\n")),
    ]

    def single(text, right, wrong, feedback):
        return QuestionSpec(kind="single", text=text, explanation=feedback, answers=[
            AnswerSpec(text=right, correct=True, feedback="Richtig."),
            AnswerSpec(text=wrong, correct=False, feedback=feedback)])

    questions = [
        single("Wie erhält die antragstellende Person die Bescheinigung?", "Im digitalen Postfach",
               "Nur per Brief", "Die Bescheinigung geht in das Postfach des Serviceportals."),
        single("Womit weist die Person online ihre Identität nach?", "Mit dem Online-Ausweis (eID)",
               "Mit ihrer E-Mail-Adresse", "Eine E-Mail-Adresse ist kein Identitätsnachweis."),
        single("Was tun Sie, wenn die eID fehlt?", "Über das Postfach um einen Nachweis bitten",
               "Den Antrag ohne Nachricht ablehnen", "Fragen Sie nach, bevor Sie entscheiden."),
        single("Kostet die online beantragte einfache Meldebescheinigung eine Gebühr?", "Nein",
               "Ja, immer", "Online ist die einfache Meldebescheinigung gebührenfrei."),
        QuestionSpec(kind="multiple", text="Was prüfen Sie im Antrag?", explanation="Beides gehört zur Prüfung.",
                     answers=[AnswerSpec(text="Name und Anschrift", correct=True),
                              AnswerSpec(text="Die Identität", correct=True),
                              AnswerSpec(text="Das Einkommen", correct=False,
                                         feedback="Das Einkommen spielt für die Bescheinigung keine Rolle.")]),
        QuestionSpec(kind="truefalse", text="Fehlt die eID, lehnen Sie den Antrag sofort ab.",
                     explanation="Sie fragen zuerst über das Postfach nach einem Nachweis.",
                     answers=true_false_answers(False, feedback_true="Nein: Fragen Sie zuerst nach.")),
        single("Wohin stellen Sie die fertige Bescheinigung?", "In das Postfach der antragstellenden Person",
               "In die Papierakte", "Die Bescheinigung geht digital zu."),
    ]
    return CourseSpec(slug="meldebescheinigung-online", title="Meldebescheinigung online ausstellen",
                      summary="Wie das Bürgerbüro Anträge aus dem Serviceportal prüft und die Bescheinigung "
                              "digital zustellt.", minutes=15, phase="onlinedienste",
                      tags=["Bürgerservice", "Serviceportal"], pass_mark=80, quiz_draw=5,
                      lessons=lessons, questions=questions)


def _draft_spec() -> CourseSpec:
    return CourseSpec(
        slug="neue-passfoto-regeln", title="Passfotos: die neuen Regeln", minutes=10,
        summary="Seit Mai 2025 werden Passfotos digital erstellt und übermittelt: was sich im Bürgerbüro ändert.",
        phase="onlinedienste", tags=["Bürgerservice"],
        lessons=[LessonSpec(slug="was-sich-aendert", position=1, title="Was sich ändert", body=(
            "Passfotos kommen nur noch digital, von einem zertifizierten Fotodienstleister oder vom "
            "Selbstbedienungsterminal im Bürgerbüro.\n\n## Offene Fragen\n\nDieser Abschnitt ist noch in "
            "Arbeit.\n"))])


def load_authoring(today: date, phases: dict[str, RolloutPhase]) -> dict[str, int]:
    lena = db.session.scalar(select(User).where(User.username == "lena"))
    picture = upload_media(lena, Upload(stream=io.BytesIO(_diagram()), filename="ablauf-meldebescheinigung.png",
                                        alt_text=DIAGRAM_ALT)).item
    spec = _published_spec(markdown_for(picture))
    published_at = utcnow() - timedelta(days=12)
    course = Course(slug=spec.slug, source=CourseSource.WEB)
    apply_course(course, spec, phases[spec.phase].id if spec.phase in phases else None, published_at)
    db.session.add(course)
    db.session.flush()
    published = CourseDraft(slug=spec.slug, course_id=course.id, base_version=1, created_by_id=lena.id,
                            updated_by_id=lena.id, editors=[CourseEditor(user_id=lena.id)])
    published.versions = [CourseVersion(number=1, spec=document_of(spec), summary="Erste Fassung",
                                        published_by_id=lena.id, published_at=published_at)]
    draft_spec = _draft_spec()
    draft = CourseDraft(slug=draft_spec.slug, document=document_of(draft_spec), created_by_id=lena.id,
                        updated_by_id=lena.id, editors=[CourseEditor(user_id=lena.id)])
    db.session.add_all([published, draft])
    db.session.commit()
    return {"web_courses": 2}
