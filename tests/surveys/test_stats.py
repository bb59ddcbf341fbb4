"""Every formula of DESIGN.md against values worked out by hand or published elsewhere."""

from __future__ import annotations

from fractions import Fraction

import pytest

from learning.privacy import groups_to_hide, hidden_in_tree
from learning.surveys import stats
from learning.surveys.figures import Measures, Reply, compute
from learning.surveys.models import Survey, SurveyQuestion, SurveySection


def test_cronbach_alpha_matches_a_published_worked_example():
    # Ten respondents, four 5-point items; the worked example (covariance form) and R's psych::alpha
    # both give 0.674 ("Survey reliability", thinkdeeply.cc).
    rows = [(3, 3, 3, 3), (3, 3, 4, 3), (3, 3, 3, 1), (5, 4, 4, 5), (2, 1, 4, 4),
            (4, 4, 4, 5), (3, 2, 3, 3), (3, 4, 3, 3), (4, 2, 2, 3), (3, 3, 2, 3)]
    alpha = stats.cronbach_alpha(rows)
    assert alpha == pytest.approx(0.674, abs=0.0005)
    assert alpha < stats.ALPHA_WARNING_BELOW  # this scale would be flagged


def test_cronbach_alpha_by_hand_and_where_it_is_undefined():
    # Item variances 7/3 each (sum 7), totals 19, 15, 10 with variance 61/3: 3/2 * (1 - 21/61) = 60/61.
    assert stats.cronbach_alpha([(7, 6, 6), (5, 5, 5), (4, 3, 3)]) == pytest.approx(60 / 61)
    assert stats.cronbach_alpha([(1, 1), (5, 5), (3, 3)]) == pytest.approx(1.0)  # identical items
    assert stats.cronbach_alpha([(4, 4)]) is None  # one respondent
    assert stats.cronbach_alpha([(4,), (2,)]) is None  # one item
    assert stats.cronbach_alpha([(3, 3), (3, 3)]) is None  # no variance at all


def test_enps_is_promoters_minus_detractors():
    result = stats.enps([10, 9, 9, 8, 7, 6, 3, 0, 10, 5])
    assert (result.promoters, result.detractors, result.n) == (0.4, 0.4, 10)
    assert result.score == pytest.approx(0)
    assert stats.enps([9, 10, 10, 7, 2]).score == pytest.approx(40)  # 60 % - 20 %
    assert stats.enps([6, 6]).score == pytest.approx(-100)
    assert stats.enps([]) is None


def test_adkar_barrier_point_is_the_first_element_at_or_below_three():
    means = {"awareness": 4.2, "desire": 3.5, "knowledge": 2.9, "ability": 3.0, "reinforcement": 2.5}
    assert stats.barrier_point(means) == "knowledge"  # not reinforcement, though lower: A-D-K-A-R order
    assert stats.barrier_point({**means, "knowledge": 3.01}) == "ability"  # 3.0 counts ("at or below")
    assert stats.barrier_point({e: 3.2 for e in stats.ADKAR_ELEMENTS}) is None


def test_readiness_index_and_share_ready():
    means = {"awareness": 4.2, "desire": 3.5, "knowledge": 2.9, "ability": 3.0, "reinforcement": 2.5}
    # (mean of 4.2, 3.5, 2.9, 3.0, 2.5 = 3.22) - 1 = 2.22; / 4 * 100 = 55.5
    assert stats.readiness_index(means) == pytest.approx(55.5)
    assert stats.readiness_index({e: 1 for e in stats.ADKAR_ELEMENTS}) == 0
    assert stats.readiness_index({e: 5 for e in stats.ADKAR_ELEMENTS}) == 100
    ready = {e: 4.0 for e in stats.ADKAR_ELEMENTS}
    almost = {**ready, "reinforcement": 3.5}
    incomplete = {"awareness": 5.0}
    assert stats.share_ready([ready, almost, ready, incomplete]) == pytest.approx(2 / 3)


def test_favourable_share_counts_the_top_two_points():
    assert stats.favourable_share([7, 6, 5, 4, 6], 7) == pytest.approx(3 / 5)
    assert stats.favourable_share([5, 4, 3], 5) == pytest.approx(2 / 3)
    assert stats.favourable_share([], 7) is None


def _tam_like_survey() -> Survey:
    """Three 7-point items of one scale (the third reverse-keyed) and a 0-10 question, not in a database."""
    survey = Survey(title="T")
    section = SurveySection(id=1, position=1, title="S")
    survey.sections.append(section)
    specs = [(11, "likert7", False), (12, "likert7", False), (13, "likert7", True), (14, "scale10", False)]
    for position, (qid, kind, reverse) in enumerate(specs, start=1):
        q = SurveyQuestion(id=qid, position=position, kind=kind, text=f"Q{qid}", options=[], options_en=[],
                           reverse=reverse, construct="usefulness" if kind == "likert7" else "", required=True)
        section.questions.append(q)
    return survey


def test_scale_scores_reverse_code_first_then_average():
    measures = Measures.of(_tam_like_survey())
    replies = [Reply(None, None, {11: 7, 12: 6, 13: 2, 14: 10}),  # reverse 2 -> 6: person score 19/3
               Reply(None, None, {11: 5, 12: 5, 13: 3, 14: 8}),   # 3 -> 5: 5
               Reply(None, None, {11: 4, 12: 3, 13: 5, 14: 3})]   # 5 -> 3: 10/3
    group = compute(measures, replies)
    scale = group.constructs["usefulness"]
    assert scale.score == pytest.approx(float((Fraction(19, 3) + 5 + Fraction(10, 3)) / 3))  # 4.889
    assert scale.favourable == pytest.approx(3 / 9)  # 7, 6, 6 of nine scored answers
    assert scale.alpha == pytest.approx(60 / 61)  # rows (7,6,6), (5,5,5), (4,3,3) after reverse-coding
    assert (scale.n, scale.alpha_n) == (3, 3)
    question = group.questions[13]
    assert question.mean == pytest.approx(10 / 3)  # per question: the raw answers, as given
    assert question.counts == [0, 1, 1, 0, 1, 0, 0]
    assert group.enps[14].score == pytest.approx(100 * (1 / 3 - 1 / 3))


def test_a_person_who_skips_an_item_counts_for_the_score_but_not_for_alpha():
    measures = Measures.of(_tam_like_survey())
    group = compute(measures, [Reply(None, None, {11: 7, 12: 6, 13: 2}), Reply(None, None, {11: 5, 12: 5, 13: 3}),
                               Reply(None, None, {11: 4})])
    scale = group.constructs["usefulness"]
    assert (scale.n, scale.alpha_n) == (3, 2)
    assert scale.score == pytest.approx((19 / 3 + 5 + 4) / 3)


def test_small_groups_hide_their_next_smallest_sibling():
    assert groups_to_hide([2, 6, 12]) == {0, 1}
    assert groups_to_hide([5, 6]) == set()
    assert groups_to_hide([3, 3, 10]) == {0, 1}  # together six: enough
    assert groups_to_hide([0, 7, 9]) == set()  # an empty group has nothing to protect
    assert groups_to_hide([1, 2, 1], minimum=5) == {0, 1, 2}
    assert groups_to_hide([4, 12, 15], minimum=10) == {0, 1}
    assert groups_to_hide([4, 8, 9], minimum=10) == {0, 1, 2}  # all below the comment threshold


def test_a_hidden_parent_hides_all_its_children():
    sizes = {"all": 30, "A": 16, "B": 3, "C": 11, "A1": 8, "A2": 8}
    children = {"all": ["A", "B", "C"], "A": ["A1", "A2"]}
    hidden = hidden_in_tree(sizes, children, "all", 5)
    # B is small; C (11) is the next-smallest sibling; A's teams stay, as A is shown.
    assert hidden == {"B", "C"}
    sizes["C"] = 20
    sizes["A"] = 7
    sizes["A1"], sizes["A2"] = 5, 2
    hidden = hidden_in_tree(sizes, children, "all", 5)
    # B (3) hides A (7, smaller than C), and A hidden hides its teams, which would add up to it.
    assert hidden == {"B", "A", "A1", "A2"}
    assert hidden_in_tree({"all": 4, "A": 4}, {"all": ["A"]}, "all", 5) == {"all", "A"}
