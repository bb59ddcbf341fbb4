"""Exports of a survey's results: aggregates only, one row per round, unit and figure (CSV and Excel).

Hidden figures are exported without value and count (``shown = no``): the export reads the same
hidden set as the results page (``learning.surveys.results``), so it never shows more than the page.
"""

from __future__ import annotations

from learning.exports import Sheet, csv_bytes, xlsx_bytes
from learning.surveys.figures import option_labels
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
        for node, rate in w.rates.items():
            level = {"all": "all", "d": "department", "t": "team"}[node[0]]
            department = units.name(department_node(node[1])) if node[0] in ("d", "t") else ""
            team = units.name(node) if node[0] == "t" else ""
            rows.append([w.wave.number, w.wave.label, level, department, team, "response rate",
                         None if rate.hidden else _rounded(rate.participants / rate.eligible if rate.eligible else 0),
                         None if rate.hidden else rate.eligible, "no" if rate.hidden else "yes"])
    return rows


def export_csv(results: SurveyResults) -> bytes:
    return csv_bytes([EXPORT_HEADER, *export_rows(results)], delimiter=",")


def export_xlsx(results: SurveyResults) -> bytes:
    about = [["survey", results.survey.title],
             ["threshold (scores)", results.survey.min_responses],
             ["threshold (comments)", results.survey.min_comments],
             ["note", "Aggregates only. Figures of groups below the threshold, and of the groups that would "
                      "give them away, are left empty (shown = no)."]]
    table = [EXPORT_HEADER, *export_rows(results)]
    return xlsx_bytes([Sheet("results", table, widths=(6, 16, 11, 24, 28, 44, 10, 6, 7)),
                       Sheet("about", about, header=False)])
