"""Writes to prescriptions, templates and deliveries, by topic; the public services
are all importable from here (``from prescriptions import services``)."""

from prescriptions.services.deliveries import (
    deliveries_requeue,
    delivery_request,
    delivery_retry,
)
from prescriptions.services.issued_handouts import handout_render_retry, handouts_requeue
from prescriptions.services.previews import RenderBusy, handout_preview, handout_render_draft
from prescriptions.services.program_templates import (
    template_apply,
    template_save_from,
    templates_load,
)
from prescriptions.services.programs import (
    prescription_add_exercise,
    prescription_copy_previous,
    prescription_create,
    prescription_issue,
    prescription_move_item,
    prescription_new_version,
    prescription_save,
)
from prescriptions.services.progressions import prescription_adjust_item, prescription_item_swap

__all__ = [
    "RenderBusy",
    "deliveries_requeue",
    "delivery_request",
    "delivery_retry",
    "handout_preview",
    "handout_render_retry",
    "handout_render_draft",
    "handouts_requeue",
    "prescription_add_exercise",
    "prescription_adjust_item",
    "prescription_copy_previous",
    "prescription_create",
    "prescription_issue",
    "prescription_item_swap",
    "prescription_move_item",
    "prescription_new_version",
    "prescription_save",
    "template_apply",
    "template_save_from",
    "templates_load",
]
