"""A follow-up's reason in the words a therapist reads on the dashboard and the
patient's record: for a worse outcome score, which measure and by how much."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from outcomes import scoring
from outcomes.models import Response
from patientpage.models import FollowUp
from patientpage.questionnaires import number, option_label


def with_scores(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Follow-ups with what ``reason_text`` needs, in the same query: the answer that
    raised a "worse" one, its questionnaire, and the patient's first score on it."""
    baseline = (
        Response.objects.filter(
            patient_id=OuterRef("patient_id"),
            questionnaire_id=OuterRef("response__questionnaire_id"),
            score__isnull=False,
        )
        .order_by("answered_at", "pk")
        .values("score")[:1]
    )
    return follow_ups.select_related("response__questionnaire").annotate(
        baseline_score=Subquery(baseline)
    )


def reason_text(follow_up: FollowUp) -> str:
    """ "Pain score worse by 2.5 since the start (3.0 → 5.5)"; the plain label for the
    other reasons, or when the figures are not at hand."""
    label = str(follow_up.get_reason_display())
    response = follow_up.response
    if follow_up.reason != FollowUp.Reason.WORSE or response is None or response.score is None:
        return label
    questionnaire = response.questionnaire
    definition = questionnaire.definition
    decimals = definition["scoring"]["decimals"]
    if definition["scoring"]["kind"] == "change":
        words = option_label(definition, response.score) or number(response.score, decimals)
        return f"{questionnaire.short_title}: rated “{words}”"
    baseline = getattr(follow_up, "baseline_score", None)
    if baseline is None:
        return label
    worse_by = -scoring.improvement(definition, baseline, response.score)
    return (
        f"{questionnaire.short_title} score worse by {number(worse_by, decimals)} since the "
        f"start ({number(baseline, decimals)} → {number(response.score, decimals)})"
    )
