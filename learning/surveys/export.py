"""Exports of a survey's results: aggregates only, one row per round, unit and figure (CSV and Excel).

``export_rows`` gives the rows with figure codes (``scale awareness: score``): the archive of a
round whose answers were deleted keeps them so. ``results_export`` turns them into the download, in
the reader's language with units and typed values (written by ``learning.exports``).

Hidden figures are exported without value and count (``shown = no``): the export reads the same
hidden set as the results page (``learning.surveys.results``), so it never shows more than the page.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from learning.exports import Column, Export, Typed
from learning.surveys.figures import option_labels
from learning.surveys.instruments import construct_label
from learning.surveys.results import ALL, SurveyResults, department_node, distribution_key, team_node

EXPORT_HEADER = ("wave", "wave_label", "unit_level", "department", "team", "figure", "value", "n", "shown")


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def export_rows(results: SurveyResults) -> list[list]:
    """One row per wave, unit and figure; hidden figures have no value and no count."""
    rows: list[list] = []
    measures = results.measures
    units = results.units
    for w in results.released_waves:
        if w.wave.archived_at is not None:
            rows.extend(list(row) for row in (w.wave.archived_rows or []))
            continue
        nodes = [ALL] + [department_node(d) for d in units.department_order()] + [department_node(None)]
        nodes += [team_node(d, t) for d in units.department_order() for t in units.teams_of(d)]
        nodes += [team_node(d, None) for d in [*units.department_order(), None]]
        for node in nodes:
            group = w.groups.get(node)
            if group is None:
                continue
            level = {"all": "all", "d": "department", "t": "team"}[node[0]]
            department = units.name(department_node(node[1])) if node[0] in ("d", "t") else ""
            team = units.name(node) if node[0] == "t" else ""
            base = [w.wave.number, w.wave.label, level, department, team]

            def add(figure: str, metric: str, value, n, _base=base, _node=node, _w=w, also: str = "") -> None:
                shown = _w.shown(_node, metric) and (not also or _w.shown(_node, also))
                rows.append([*_base, figure, _rounded(value) if shown else None, n if shown else None,
                             "yes" if shown else "no"])

            add("responses", "responses", group.n, group.n)
            for key, c in group.constructs.items():
                add(f"scale {key}: score", f"c:{key}", c.score, c.n)
                add(f"scale {key}: favourable share", f"c:{key}", c.favourable, c.n)
                alpha = c.alpha if c.alpha_n >= results.survey.min_responses else None
                add(f"scale {key}: cronbach alpha", f"c:{key}", alpha, c.alpha_n)
            if group.adkar is not None and w.adkar_shown(node):
                add("adkar: readiness index", "adkar", group.adkar.readiness, group.adkar.n)
                add("adkar: share ready", "adkar", group.adkar.ready, group.adkar.n)
                rows.append([*base, "adkar: barrier point", group.adkar.barrier or "", group.adkar.n, "yes"])
            elif group.adkar is not None:
                for figure in ("adkar: readiness index", "adkar: share ready", "adkar: barrier point"):
                    rows.append([*base, figure, None, None, "no"])
            for qid, result in group.enps.items():
                add(f"enps question {measures.questions.index(next(q for q in measures.questions if q.id == qid)) + 1}",
                    f"enps{qid}", result.score if result else None, result.n if result else 0)
            for number, q in enumerate(measures.questions, start=1):
                stat = group.questions.get(q.id)
                if stat is None:
                    continue
                if stat.mean is not None:
                    add(f"question {number}: mean", f"q{q.id}", stat.mean, stat.n)
                for option, share in zip(option_labels(q, "de"), stat.shares, strict=True):
                    add(f"question {number}: share {option}", f"q{q.id}", share, stat.n, also=distribution_key(q))
        # In the order of the figures above, whatever order the database returned the people in.
        order = {node: position for position, node in enumerate(nodes)}
        for node, rate in sorted(w.rates.items(), key=lambda item: (order.get(item[0], len(order)), repr(item[0]))):
            level = {"all": "all", "d": "department", "t": "team"}[node[0]]
            department = units.name(department_node(node[1])) if node[0] in ("d", "t") else ""
            team = units.name(node) if node[0] == "t" else ""
            rows.append([w.wave.number, w.wave.label, level, department, team, "response rate",
                         None if rate.hidden else _rounded(rate.participants / rate.eligible if rate.eligible else 0),
                         None if rate.hidden else rate.eligible, "no" if rate.hidden else "yes"])
    return rows


# The download: the rows above in the reader's language --------------------------------------------------

def _figure(code: str, value, results: SurveyResults, locale: str) -> tuple[str, object]:
    """A figure's name in the reader's language with its unit, and its value typed (shares as percent)."""
    measures = results.measures
    if code == "responses":
        return _("Answers (number)"), Typed(value, "int")
    if code == "response rate":
        return _("Response rate (%)"), _share(value)
    if code.startswith("scale "):
        key, _sep, what = code[len("scale "):].partition(": ")
        name = construct_label(key)
        construct = measures.constructs.get(key)
        points = construct.points if construct is not None else 5
        if what == "score":
            return _("%(scale)s: mean score (1–%(points)d)", scale=name, points=points), Typed(value, "decimal", 2)
        if what == "favourable share":
            return _("%(scale)s: favourable answers (%%)", scale=name), _share(value)
        return (_("%(scale)s: reliability (Cronbach's alpha, 0–1)", scale=name), Typed(value, "decimal", 2))
    if code == "adkar: readiness index":
        return _("ADKAR readiness index (0–100)"), Typed(value, "decimal", 1)
    if code == "adkar: share ready":
        return _("ADKAR: ready in every element, 4 or more (%)"), _share(value)
    if code == "adkar: barrier point":
        # The first ADKAR element with a mean of 3 or less, as its name ("Fähigkeit"), not as a code.
        return _("ADKAR barrier point (first element at 3 or below)"), (
            None if value is None else construct_label(value) if value else _("none"))
    if code.startswith("enps question "):
        return (_("eNPS, question %(num)s (−100 to +100)", num=code.rsplit(" ", 1)[1]), Typed(value, "decimal", 0))
    if code.startswith("question "):
        number_text, _sep, what = code[len("question "):].partition(": ")
        number = int(number_text)
        question = measures.questions[number - 1] if 0 < number <= len(measures.questions) else None
        if what == "mean":
            points = (question.question_kind.points if question is not None else None) or 5
            return _("Question %(num)d: mean (1–%(points)d)", num=number, points=points), Typed(value, "decimal", 2)
        option = what[len("share "):]
        if question is not None:  # the option in the reader's language (the code holds the German label)
            german = option_labels(question, "de")
            if option in german:
                option = option_labels(question, locale)[german.index(option)]
        return _("Question %(num)d: share “%(option)s” (%%)", num=number, option=option), _share(value)
    return code, value


def _share(value) -> Typed:
    return Typed(None if value is None else round(100 * value, 1), "percent", 1)


LEVELS = {"all": _l("Whole organisation"), "department": _l("Department"), "team": _l("Team")}


def results_export(results: SurveyResults, organisation: str = "") -> Export:
    """The results as a table in the reader's language: one row per round, unit and figure."""
    locale = str(get_locale() or "de")
    columns = [Column(_("Round (number)"), "int", width=10), Column(_("Round"), width=18),
               Column(_("Level"), width=18), Column(_("Department"), width=26), Column(_("Team"), width=26),
               Column(_("Figure (unit)"), width=52), Column(_("Value"), "decimal", 2, width=12),
               Column(_("Based on (answers)"), "int", width=12), Column(_("Shown"), "yesno", width=9)]
    rows = []
    for number, label, level, department, team, figure, value, n, shown in export_rows(results):
        name, typed = _figure(figure, value, results, locale)
        rows.append([number, label, str(LEVELS.get(level, level)), department, team, name, typed, n,
                     shown == "yes"])
    return Export(
        title=_("Survey results: %(title)s", title=results.survey.title),
        name=_("survey-%(num)d-results", num=results.survey.id),
        columns=columns, rows=rows, organisation=organisation,
        filters=[(_("Survey"), results.survey.title), (_("Rounds"), _("all released rounds"))],
        notes=[_("Aggregates only. Figures of groups with fewer than %(scores)d answers (%(comments)d for "
                 "comments), and of the groups that would give them away, are left empty (Shown: No).",
                 scores=results.survey.min_responses, comments=results.survey.min_comments)],
    )
