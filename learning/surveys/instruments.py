"""Instrument templates in German and English, in our own wording.

A template fills a new draft survey with sections and questions in both languages; the project
group then adapts it. The texts are content (like the courses), not interface strings, so they
live here in both languages rather than in the message catalogue.

- ADKAR readiness: two items per element (Awareness, Desire, Knowledge, Ability, Reinforcement),
  5-point agreement scale; an element is scored as the mean of its items.
- Technology acceptance (after the TAM): perceived usefulness and perceived ease of use, six items
  each on a 7-point agreement scale; one item of each is worded the other way round (reverse-keyed).
- eNPS: one 0-10 question and an optional reason.
- Pulse: three short 5-point items and one open question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from learning.surveys.models import Instrument, QuestionKind, Survey, SurveyQuestion, SurveySection

AGREE5 = (
    ["Trifft überhaupt nicht zu", "Trifft eher nicht zu", "Teils, teils", "Trifft eher zu", "Trifft voll und ganz zu"],
    ["Not at all true", "Mostly not true", "Partly true", "Mostly true", "Completely true"],
)
AGREE7 = (
    ["Stimme überhaupt nicht zu", "Stimme nicht zu", "Stimme eher nicht zu", "Weder noch", "Stimme eher zu",
     "Stimme zu", "Stimme voll und ganz zu"],
    ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree", "Somewhat agree", "Agree",
     "Strongly agree"],
)
LIKELY10 = (["überhaupt nicht wahrscheinlich", "äußerst wahrscheinlich"], ["not at all likely", "extremely likely"])

DEFAULT_LABELS = {QuestionKind.LIKERT5: AGREE5, QuestionKind.LIKERT7: AGREE7, QuestionKind.SCALE10: LIKELY10}

# Names of the constructs the templates use, for the results pages.
CONSTRUCT_LABELS = {
    "awareness": _l("Awareness"),
    "desire": _l("Desire"),
    "knowledge": _l("Knowledge"),
    "ability": _l("Ability"),
    "reinforcement": _l("Reinforcement"),
    "usefulness": _l("Perceived usefulness"),
    "ease_of_use": _l("Perceived ease of use"),
}


def construct_label(key: str) -> str:
    return str(CONSTRUCT_LABELS[key]) if key in CONSTRUCT_LABELS else key


@dataclass(frozen=True)
class Item:
    kind: QuestionKind
    de: str
    en: str
    construct: str = ""
    reverse: bool = False
    required: bool = True
    options: tuple[list[str], list[str]] | None = None  # (de, en); None: the scale's default labels


@dataclass(frozen=True)
class Part:
    de: str
    en: str
    items: list[Item] = field(default_factory=list)
    description_de: str = ""
    description_en: str = ""


@dataclass(frozen=True)
class Template:
    instrument: Instrument
    title: tuple[str, str]
    intro: tuple[str, str]
    parts: list[Part]


def _intro(purpose_de: str, purpose_en: str) -> tuple[str, str]:
    de = (
        f"**Worum es geht:** {purpose_de}\n\n"
        "**Freiwillig:** Die Teilnahme ist freiwillig. Wer nicht teilnimmt, hat keine Nachteile. Fragen ohne "
        "den Hinweis „Pflichtfrage“ können Sie überspringen.\n\n"
        "**Was mit Ihren Angaben geschieht:** Die Projektgruppe sieht nur zusammengefasste Ergebnisse von "
        "Gruppen, die groß genug sind, und nutzt sie, um Information, Schulung und Unterstützung zu planen. "
        "Die Ergebnisse werden mit dem Personalrat besprochen und allen Beschäftigten vorgestellt. Einzelne "
        "Antworten werden nach Ablauf der Aufbewahrungsfrist gelöscht."
    )
    en = (
        f"**What this is about:** {purpose_en}\n\n"
        "**Voluntary:** Taking part is voluntary. Not taking part has no disadvantages. You can skip questions "
        "that are not marked “required”.\n\n"
        "**What happens with your answers:** The project group sees only summarised results of groups that are "
        "large enough, and uses them to plan information, training and support. The results are discussed with "
        "the staff council and presented to all staff. Individual answers are deleted when the retention period "
        "ends."
    )
    return de, en


L5, L7, S10, TEXT = QuestionKind.LIKERT5, QuestionKind.LIKERT7, QuestionKind.SCALE10, QuestionKind.TEXT

TEMPLATES: dict[Instrument, Template] = {
    Instrument.ADKAR: Template(
        Instrument.ADKAR,
        ("Bereitschaft für die Veränderung", "Readiness for the change"),
        _intro("Wir möchten wissen, wie gut Sie sich auf die Umstellung vorbereitet fühlen und wo Sie noch "
               "Unterstützung brauchen. Die Befragung dauert etwa fünf Minuten.",
               "We would like to know how well prepared you feel for the changeover and where you still need "
               "support. The survey takes about five minutes."),
        [
            Part("Warum wir etwas ändern", "Why we are changing", [
                Item(L5, "Ich verstehe, warum sich unsere Arbeitsweise in dieser Phase ändert.",
                     "I understand why the way we work is changing in this phase.", "awareness"),
                Item(L5, "Mir ist klar, was passieren würde, wenn wir nichts verändern.",
                     "I know what would happen if we changed nothing.", "awareness"),
            ]),
            Part("Ihre Haltung zur Veränderung", "Your attitude to the change", [
                Item(L5, "Ich möchte die Veränderung aktiv unterstützen.",
                     "I want to support the change actively.", "desire"),
                Item(L5, "Ich sehe für mich persönlich Vorteile in der Veränderung.",
                     "I see advantages in the change for me personally.", "desire"),
            ]),
            Part("Was Sie wissen", "What you know", [
                Item(L5, "Ich weiß, was ich nach der Umstellung anders machen werde.",
                     "I know what I will do differently after the changeover.", "knowledge"),
                Item(L5, "Ich weiß, wo ich Schulungen, Anleitungen und Hilfe finde.",
                     "I know where to find training, guides and help.", "knowledge"),
            ]),
            Part("Was Sie können", "What you can do", [
                Item(L5, "Ich traue mir zu, die neuen Abläufe im Arbeitsalltag anzuwenden.",
                     "I am confident that I can use the new procedures in my daily work.", "ability"),
                Item(L5, "Ich habe genug Zeit und Gelegenheit, das Neue zu üben.",
                     "I have enough time and opportunity to practise the new way of working.", "ability"),
            ]),
            Part("Was die Veränderung festigt", "What makes the change last", [
                Item(L5, "Ich bekomme Rückmeldung und Anerkennung, wenn ich die neuen Abläufe nutze.",
                     "I get feedback and recognition when I use the new procedures.", "reinforcement"),
                Item(L5, "Ich gehe davon aus, dass die neuen Abläufe bleiben und wir nicht zum alten Weg zurückkehren.",
                     "I expect the new procedures to stay and that we will not go back to the old way.",
                     "reinforcement"),
            ]),
            Part("Ihre Anmerkungen", "Your comments", [
                Item(TEXT, "Was würde Ihnen bei der Umstellung am meisten helfen?",
                     "What would help you most with the changeover?", required=False),
            ]),
        ],
    ),
    Instrument.TAM: Template(
        Instrument.TAM,
        ("Akzeptanz des neuen Systems", "Acceptance of the new system"),
        _intro("Wir möchten wissen, wie nützlich und wie einfach Sie das neue System im Arbeitsalltag erleben. "
               "Die Befragung dauert etwa fünf Minuten.",
               "We would like to know how useful and how easy to use you find the new system in your daily work. "
               "The survey takes about five minutes."),
        [
            Part("Nutzen für Ihre Arbeit", "Usefulness for your work", [
                Item(L7, "Mit dem neuen System erledige ich meine Aufgaben schneller.",
                     "With the new system I get my tasks done more quickly.", "usefulness"),
                Item(L7, "Das neue System verbessert die Qualität meiner Arbeit.",
                     "The new system improves the quality of my work.", "usefulness"),
                Item(L7, "Mit dem neuen System finde ich benötigte Informationen leichter.",
                     "With the new system I find the information I need more easily.", "usefulness"),
                Item(L7, "Das neue System erleichtert die Zusammenarbeit mit Kolleginnen und Kollegen.",
                     "The new system makes working with colleagues easier.", "usefulness"),
                Item(L7, "Das neue System macht meine Arbeit umständlicher.",
                     "The new system makes my work more cumbersome.", "usefulness", reverse=True),
                Item(L7, "Alles in allem ist das neue System für meine Arbeit nützlich.",
                     "All in all, the new system is useful for my work.", "usefulness"),
            ]),
            Part("Bedienung", "Ease of use", [
                Item(L7, "Die Bedienung des neuen Systems ist leicht zu lernen.",
                     "Learning to use the new system is easy.", "ease_of_use"),
                Item(L7, "Ich finde mich im neuen System gut zurecht.",
                     "I find my way around the new system well.", "ease_of_use"),
                Item(L7, "Das neue System verhält sich so, wie ich es erwarte.",
                     "The new system behaves the way I expect.", "ease_of_use"),
                Item(L7, "Die Arbeit mit dem neuen System kostet mich viel Mühe.",
                     "Working with the new system takes me a lot of effort.", "ease_of_use", reverse=True),
                Item(L7, "Es fällt mir leicht, mit dem neuen System das zu erreichen, was ich möchte.",
                     "It is easy for me to get the new system to do what I want.", "ease_of_use"),
                Item(L7, "Alles in allem ist das neue System einfach zu bedienen.",
                     "All in all, the new system is easy to use.", "ease_of_use"),
            ]),
            Part("Ihre Anmerkungen", "Your comments", [
                Item(TEXT, "Was sollten wir am neuen System oder an seiner Einführung verbessern?",
                     "What should we improve about the new system or the way it is introduced?", required=False),
            ]),
        ],
    ),
    Instrument.ENPS: Template(
        Instrument.ENPS,
        ("Weiterempfehlung als Arbeitgeberin", "Recommending us as an employer"),
        _intro("Wir möchten wissen, wie Sie unsere Verwaltung als Arbeitgeberin erleben. Die Befragung hat "
               "zwei Fragen und dauert eine Minute.",
               "We would like to know how you experience our administration as an employer. The survey has two "
               "questions and takes a minute."),
        [
            Part("Ihre Einschätzung", "Your view", [
                Item(S10, "Wie wahrscheinlich ist es, dass Sie unsere Verwaltung Freundinnen, Freunden oder Bekannten "
                          "als Arbeitgeberin empfehlen?",
                     "How likely is it that you would recommend our administration as an employer to friends or "
                     "acquaintances?"),
                Item(TEXT, "Was ist der wichtigste Grund für Ihre Bewertung?",
                     "What is the main reason for your rating?", required=False),
            ]),
        ],
    ),
    Instrument.PULSE: Template(
        Instrument.PULSE,
        ("Kurzbefragung: Wie geht es Ihnen mit der Veränderung?", "Pulse: how are you finding the change?"),
        _intro("Mit dieser kurzen Befragung fragen wir regelmäßig nach, wie es Ihnen mit der Veränderung geht. "
               "Sie dauert etwa eine Minute.",
               "With this short survey we regularly ask how you are finding the change. It takes about a minute."),
        [
            Part("Ihre Einschätzung", "Your view", [
                Item(L5, "Ich fühle mich über die anstehenden Veränderungen gut informiert.",
                     "I feel well informed about the changes ahead."),
                Item(L5, "Ich weiß, an wen ich mich mit Fragen zur Umstellung wenden kann.",
                     "I know whom to ask about the changeover."),
                Item(L5, "Meine Arbeitsbelastung ist derzeit gut zu bewältigen.",
                     "My workload is manageable at the moment."),
                Item(TEXT, "Was sollten wir als Nächstes verbessern?", "What should we improve next?", required=False),
            ]),
        ],
    ),
}


def default_options(kind: QuestionKind) -> tuple[list[str], list[str]]:
    """The labels of every scale point (or the two anchors of a 0-10 scale), German and English."""
    de, en = DEFAULT_LABELS.get(kind, ([], []))
    return list(de), list(en)


def apply_template(survey: Survey, instrument: Instrument) -> None:
    """Fill a new survey with the template's texts, sections and questions (nothing is committed)."""
    template = TEMPLATES.get(instrument)
    survey.instrument = instrument.value
    if template is None:
        return
    survey.intro, survey.intro_en = template.intro
    position = 0
    for section_position, part in enumerate(template.parts, start=1):
        section = SurveySection(position=section_position, title=part.de, title_en=part.en,
                                description=part.description_de, description_en=part.description_en)
        survey.sections.append(section)
        for item in part.items:
            position += 1
            options_de, options_en = item.options or default_options(item.kind)
            question = SurveyQuestion(
                position=position, kind=item.kind.value, text=item.de, text_en=item.en, options=options_de,
                options_en=options_en, required=item.required, reverse=item.reverse, construct=item.construct,
            )
            section.questions.append(question)
            survey.questions.append(question)


def template_title(instrument: Instrument, phase_de: str | None = None, phase_en: str | None = None) -> tuple[str, str]:
    """The template's title in German and English, with the phase's title after a colon."""
    template = TEMPLATES.get(instrument)
    if template is None:
        return "", ""
    de, en = template.title
    if phase_de:
        return f"{de}: {phase_de}", f"{en}: {phase_en or phase_de}"
    return de, en
