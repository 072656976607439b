import logging
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django_htmx.http import HttpResponseClientRedirect

from clinic.access import ClinicAdminMixin, ClinicStaffMixin
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.selectors import get_patient_for
from clinic.storage import private_file_response
from exercises.dose import plural
from exercises.selectors import get_prescribable_exercise_for, versions_for
from exercises.views import search_page
from prescriptions import services, template_views
from prescriptions.forms import (
    EmailHandoutForm,
    ItemFormSet,
    PrescriptionForm,
    TemplateNameForm,
    schedule_form_for,
)
from prescriptions.models import Delivery
from prescriptions.selectors import (
    active_schedules,
    clinic_deliveries,
    get_prescription_for,
    get_prescription_to_download,
    get_template_for,
    recently_used,
    templates_for,
)

logger = logging.getLogger(__name__)

BUILDER_ACTIONS = (
    "add_exercise",
    "move",
    "swap",
    "apply_template",
    "save_template",
    "copy_previous",
    "reorder",
    "preview_template",
    "undo_template",
)


# Changes are audited by the services that make them; views record reads only.
def audit_read(request, prescription, action: str, detail: str = "") -> None:
    audit_record(
        actor=Actor.of(request),
        action=action,
        patient=prescription.patient,
        target=f"prescription {prescription.pk}",
        detail=detail,
    )


Action = AuditEntry.Action


class PrescriptionMixin(ClinicStaffMixin):
    """Loads ``self.prescription`` through the clinic-scoped selector."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.prescription = get_prescription_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class PrescriptionCreateView(ClinicStaffMixin, View):
    http_method_names = ["post"]

    def post(self, request, patient_pk):
        patient = get_patient_for(request.user, patient_pk)
        prescription = services.prescription_create(patient=patient, actor=Actor.of(request))
        return redirect("prescriptions:edit", pk=prescription.pk)


class PrescriptionDetailView(PrescriptionMixin, TemplateView):
    template_name = "prescriptions/detail.html"

    def get_context_data(self, **kwargs):
        rx = self.prescription
        audit_read(self.request, rx, Action.VIEW)
        return super().get_context_data(
            prescription=rx,
            **poll_context(),
            items=rx.items.all(),
            email_form=EmailHandoutForm(initial={"recipient": rx.patient.email}),
            schedules=active_schedules(rx),
            schedule_form=schedule_form_for(rx, self.clinic),
            **kwargs,
        )


class PrescriptionBuilderView(PrescriptionMixin, TemplateView):
    """The plan on one side, the library on the other; works without JavaScript."""

    template_name = "prescriptions/builder.html"

    def get(self, request, *args, **kwargs):
        if not self.prescription.is_draft:
            return redirect(self.prescription)
        form = PrescriptionForm(instance=self.prescription)
        formset = ItemFormSet(instance=self.prescription, queryset=self.prescription.items.all())
        context = self.get_context_data(form=form, formset=formset)
        if request.htmx.target == "library-results":
            return render(request, f"{self.template_name}#library-results", context)
        audit_read(request, self.prescription, Action.VIEW, "Opened in the builder")
        return self.render_to_response(context)

    def _plan(self, request):
        """After an htmx action: only the plan, freshly loaded (its items changed)."""
        self.prescription = get_prescription_for(request.user, self.prescription.pk)
        form = PrescriptionForm(instance=self.prescription)
        formset = ItemFormSet(instance=self.prescription, queryset=self.prescription.items.all())
        context = self.get_context_data(
            form=form,
            formset=formset,
            added=getattr(self, "added", None),
            # The templates box stays open after one of its own buttons.
            templates_open=any(name in request.POST for name in TEMPLATE_BUTTONS),
        )
        return render(request, f"{self.template_name}#plan", context)

    def post(self, request, *args, **kwargs):
        if not self.prescription.is_draft:
            error = ValidationError(
                "This prescription has been issued and can no longer be changed."
            )
            return _after_issued_elsewhere(request, self.prescription, error)
        form = PrescriptionForm(request.POST, instance=self.prescription)
        formset = ItemFormSet(
            request.POST, instance=self.prescription, queryset=self.prescription.items.all()
        )
        if not (form.is_valid() and formset.is_valid()):
            messages.error(request, "Please correct the highlighted fields.")
            context = self.get_context_data(form=form, formset=formset)
            if request.htmx:
                return render(request, f"{self.template_name}#plan", context)
            return self.render_to_response(context)
        actor = Actor.of(request)  # One actor for the save and the button's action.
        try:
            services.prescription_save(
                prescription=self.prescription, form=form, formset=formset, actor=actor
            )
        except ValidationError as error:
            # Issued by another request since this page loaded (a double click on
            # "Save and issue"): show what was issued, not an error page.
            return _after_issued_elsewhere(request, self.prescription, error)
        if any(action in request.POST for action in BUILDER_ACTIONS):
            try:
                self._act(request, actor)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            if request.htmx:
                return self._plan(request)
            return redirect(f"{request.path}?{request.GET.urlencode()}#plan")
        if "preview" in request.POST:
            # "Preview handout" submits the plan (to a new tab), so the preview shows it.
            response = redirect("prescriptions:handout", pk=self.prescription.pk)
        elif "issue" in request.POST:
            response = _issue(request, self.prescription)
        else:
            messages.success(request, "Draft saved.")
            response = redirect(self.prescription)
        if request.htmx:
            # Leaving the builder: a full page load of where the redirect points.
            return HttpResponseClientRedirect(response.url)
        return response

    def _act(self, request, actor: Actor):
        """The library's Add buttons, the items' up/down buttons and the template buttons
        all submit the plan form, so edits made before pressing them are saved, not lost."""
        rx = self.prescription
        if "add_exercise" in request.POST:
            exercise = get_prescribable_exercise_for(
                request.user, object_id(request.POST["add_exercise"])
            )
            services.prescription_add_exercise(prescription=rx, exercise=exercise, actor=actor)
            messages.success(request, f"Added {exercise.name}.")
            self.added = exercise  # Its Add button says so (the plan's answer, out of band).
            return
        if "apply_template" in request.POST:
            if not request.POST.get("template"):
                raise ValidationError("Choose a template first.")
            template = get_template_for(request.user, object_id(request.POST["template"]))
            appended = template_views.apply_template(request, rx, template, actor)
            _appended_message(request, appended, f"from “{template.name}”")
            return
        if "preview_template" in request.POST:
            template_views.preview_button(request, rx)
            return
        if "undo_template" in request.POST:
            template_views.undo_button(request, rx, actor)
            return
        if "copy_previous" in request.POST:
            appended = services.prescription_copy_previous(prescription=rx, actor=actor)
            _appended_message(request, appended, "from the previous prescription")
            return
        if "reorder" in request.POST:
            return  # The new order came with the form and is saved.
        if "save_template" in request.POST:
            name = TemplateNameForm(request.POST)
            if not name.is_valid():
                raise ValidationError(name.errors["template_name"].as_data())
            template = services.template_save_from(
                prescription=rx, name=name.cleaned_data["template_name"], actor=actor
            )
            messages.success(request, f"Saved as your clinic's template “{template.name}”.")
            return
        if "swap" in request.POST:
            # "<item>:<easier|harder>:<exercise>": the direction is for the focus (builder.js).
            item_pk, _, rest = request.POST["swap"].partition(":")
            exercise = get_prescribable_exercise_for(
                request.user, object_id(rest.rpartition(":")[2])
            )
            item = services.prescription_item_swap(
                prescription=rx, item_pk=item_pk, exercise=exercise, actor=actor
            )
            messages.success(request, f"Swapped for {item.exercise.name}.")
            return
        item_pk, _, direction = request.POST["move"].partition(":")
        services.prescription_move_item(
            prescription=self.prescription,
            item_pk=item_pk,
            up=direction == "up",
            actor=actor,
        )

    def get_context_data(self, **kwargs):
        search_form, page = search_page(self.request, self.clinic, per_page=12)
        in_plan = {item.exercise_id for item in self.prescription.items.all()}
        if formset := kwargs.get("formset"):
            # Each item's "Easier version" / "Harder version" buttons (two queries in all).
            items = [f.instance for f in formset.forms if f.instance.pk]
            versions = versions_for([item.exercise for item in items], self.clinic)
            for item in items:
                item.easier_version, item.harder_version = versions[item.exercise_id]
        return super().get_context_data(
            prescription=self.prescription,
            search_form=search_form,
            page=page,
            in_plan=in_plan,
            templates=templates_for(self.request.user),
            favourite_ids=page.favourite_ids,
            # Read only when the template shows the row (no search typed).
            recent=partial(recently_used, user=self.request.user),
            **template_views.builder_context(self.request, self.prescription),
            **kwargs,
        )


TEMPLATE_BUTTONS = (
    "apply_template",
    "copy_previous",
    "save_template",
    "preview_template",
    "undo_template",
)


def _appended_message(request, appended, source: str) -> None:
    """ "Added 3 exercises from …; already in the plan, left as they are: Chin tuck." """
    added = plural(appended.added, "exercise")
    text = f"Added {added} {source}." if appended.added else f"Nothing new {source}."
    if appended.already:
        text += f" Already in the plan, left as they are: {', '.join(appended.already)}."
    (messages.success if appended.added else messages.info)(request, text)


def object_id(value: str) -> int:
    """The id a builder button sent. Anything but digits names nothing of the clinic's:
    a 404, like an unknown id (the lookup would raise ValueError, a 500)."""
    if not (value.isascii() and value.isdigit()):
        raise Http404("No such exercise or template.")
    return int(value)


def _after_issued_elsewhere(request, prescription, error):
    prescription.refresh_from_db()
    if "issue" in request.POST and prescription.status == prescription.Status.ISSUED:
        handout = getattr(prescription, "handout", None)
        if handout is not None and handout.is_ready:
            messages.info(request, "This prescription is issued. The handout is ready.")
        else:
            messages.info(request, "This prescription is issued. Its handout is being prepared.")
    else:
        messages.error(request, " ".join(error.messages))
    if request.htmx:
        return HttpResponseClientRedirect(prescription.get_absolute_url())
    return redirect(prescription)


def _issue(request, prescription):
    try:
        handout = services.prescription_issue(prescription=prescription, actor=Actor.of(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("prescriptions:edit", pk=prescription.pk)
    if handout.is_ready:
        messages.success(request, "Prescription issued. The handout is ready to print or email.")
    elif handout.is_failed:
        messages.warning(
            request, f"Prescription issued, but its handout could not be made. {handout.last_error}"
        )
    else:
        messages.success(
            request,
            "Prescription issued. The handout is being prepared and appears here in a "
            "moment; you can email it now, it goes as soon as it is ready.",
        )
    return redirect(prescription)


class PrescriptionNewVersionView(PrescriptionMixin, View):
    """Changing an issued prescription starts a new version; the issued one stays as it was."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            draft = services.prescription_new_version(
                prescription=self.prescription, actor=Actor.of(request)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.prescription)
        messages.info(request, "A new version to change. Issuing it replaces the current one.")
        return redirect("prescriptions:edit", pk=draft.pk)


class PrescriptionAdjustView(PrescriptionMixin, View):
    """ "Make easier" / "Make harder" on an exercise of the issued version: the draft new
    version with that change, opened in the builder to check and issue."""

    http_method_names = ["post"]

    def post(self, request, pk):
        value = request.POST.get("item", "")
        item = next((i for i in self.prescription.items.all() if str(i.pk) == value), None)
        if item is None:
            messages.error(request, "That exercise is not in this program.")
            return redirect(self.prescription)
        easier = request.POST.get("direction") != "harder"
        try:
            adjustment = services.prescription_adjust_item(
                item=item, easier=easier, actor=Actor.of(request)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.prescription)
        messages.success(
            request,
            f"New version started: {adjustment.summary} Check it, then issue it to replace "
            "the current one.",
        )
        return redirect("prescriptions:edit", pk=adjustment.draft.pk)


class PrescriptionIssueView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        return _issue(request, self.prescription)


@method_decorator(never_cache, name="dispatch")
class HandoutView(ClinicStaffMixin, View):
    """An issued handout is served from the stored bytes once they are drawn; a draft is
    drawn from the plan as it is now (the preview cache holds a drawing only while the
    plan is unchanged)."""

    def get(self, request, pk):
        rx = get_prescription_to_download(request.user, pk)
        # Named by id: downloads folders get synced and shared, names would go with them.
        filename = f"handout-{rx.pk}.pdf"
        if rx.is_draft:
            audit_read(request, rx, Action.PRINT, "Draft preview")
            try:
                pdf = services.handout_preview(prescription=rx, user=request.user)
            except services.RenderBusy as busy:
                response = render(
                    request, "prescriptions/preview_busy.html", {"reason": str(busy)}, status=503
                )
                response["Retry-After"] = "5"
                return response
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="draft-{filename}"'
            return response
        handout = getattr(rx, "handout", None)
        if handout is not None and not handout.is_ready:
            return handout_not_ready(request, rx, handout)
        audit_read(request, rx, Action.PRINT, "Handout PDF")
        try:
            if handout is None:
                raise FileNotFoundError
            return private_file_response(
                handout.pdf, filename=filename, content_type="application/pdf"
            )
        except FileNotFoundError:
            logger.error("Handout file of prescription %s is missing from storage", rx.pk)
            return render(
                request, "prescriptions/handout_missing.html", {"prescription": rx}, status=404
            )


# While a handout is drawn, its download asks the browser to come back this soon.
PREPARING_RETRY_SECONDS = 2


def handout_not_ready(request, prescription, handout):
    """A handout not drawn yet: never a half-written or missing file. While it is drawn,
    503 with Retry-After, and a page that reloads itself (the ``Refresh`` header: no
    script) into the PDF; once drawing has failed, 409 and where to try again."""
    context = {"prescription": prescription, "handout": handout}
    if handout.is_failed:
        return render(request, "prescriptions/handout_preparing.html", context, status=409)
    response = render(request, "prescriptions/handout_preparing.html", context, status=503)
    response["Retry-After"] = str(PREPARING_RETRY_SECONDS)
    response["Refresh"] = str(PREPARING_RETRY_SECONDS)
    # Expected while a handout is drawn: not an error for the log or the admins' inbox.
    response._has_been_logged = True
    return response


@method_decorator(never_cache, name="dispatch")
class HandoutStateView(ClinicStaffMixin, View):
    """What the prescription page shows of its handout (preparing, ready or failed),
    asked for again and again by that page while the handout is drawn (htmx). Not
    audited: it says only whether the file is ready; the page itself is a view."""

    def get(self, request, pk):
        rx = get_prescription_to_download(request.user, pk)
        context = {"rx": rx, **poll_context(request)}
        return render(request, "prescriptions/partials/handout_state.html", context)


# The page asks twice a second while a handout is usually drawn (a few seconds at most),
# then every 5 seconds: a page left open on a handout that waits for a stopped worker
# costs little.
QUICK_POLLS = 20


def poll_context(request=None) -> dict:
    """For the handout state partial: which poll this is (``n``, counted by the page's
    own requests; the page itself is poll 0) and how long to wait before the next."""
    raw = request.GET.get("n", "")[:6] if request is not None else ""
    n = int(raw) if raw.isascii() and raw.isdigit() else 0
    return {"next_poll": n + 1, "poll_delay": "500ms" if n < QUICK_POLLS else "5s"}


class HandoutRetryView(PrescriptionMixin, View):
    """ "Try again" on a handout whose drawing failed (audited by the service)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        handout = getattr(self.prescription, "handout", None)
        if handout is not None and services.handout_render_retry(
            handout=handout, actor=Actor.of(request)
        ):
            handout.refresh_from_db()
            if handout.is_ready:
                messages.success(request, "The handout is ready to print or email.")
            elif handout.is_failed:
                messages.error(request, f"The handout could not be made. {handout.last_error}")
            else:
                messages.info(request, "The handout is being prepared again.")
        else:
            messages.info(request, "This handout is not failed: there is nothing to try again.")
        return redirect(self.prescription)


class EmailHandoutView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        form = EmailHandoutForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(self.prescription)
        try:
            delivery, created = services.delivery_request(
                prescription=self.prescription,
                actor=Actor.of(request),
                request_key=form.cleaned_data["request_key"],
                extra_recipient=form.cleaned_data["extra_recipient"],
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.prescription)
        report_delivery(request, delivery, created=created)
        return redirect(self.prescription)


def report_delivery(request, delivery, *, created: bool = True) -> None:
    """Tell the therapist what became of an email they just asked for."""
    delivery.refresh_from_db()
    Status = delivery.Status
    if not created:
        messages.info(request, f"This email was already requested for {delivery.recipient}.")
    elif delivery.status == Status.SENT:
        messages.success(request, f"Handout emailed to {delivery.recipient}.")
    elif delivery.status == Status.RETRY:
        messages.warning(
            request,
            f"The email to {delivery.recipient} failed – we will retry. {delivery.last_error}",
        )
    elif delivery.status == Status.FAILED:
        messages.error(request, f"The email to {delivery.recipient} failed: {delivery.last_error}")
    elif not _handout_ready(delivery):
        messages.success(
            request,
            f"The handout is still being prepared; it goes to {delivery.recipient} as soon "
            "as it is ready.",
        )
    else:
        messages.success(request, f"The handout is on its way to {delivery.recipient}.")


def _handout_ready(delivery) -> bool:
    handout = getattr(delivery.prescription, "handout", None)
    return handout is not None and handout.is_ready


class DeliveryRetryView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, delivery_pk):
        delivery = get_object_or_404(self.prescription.deliveries.all(), pk=delivery_pk)
        if services.delivery_retry(delivery=delivery, actor=Actor.of(request)):
            report_delivery(request, delivery)
        else:
            messages.info(request, "That email is already being sent.")
        return redirect(self.prescription)


class DeliveryLogView(ClinicAdminMixin, TemplateView):
    """Every handout email of the clinic, newest first, for clinic admins."""

    template_name = "prescriptions/deliveries.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        if status not in Delivery.Status.values:
            status = ""
        deliveries = clinic_deliveries(clinic=self.clinic, status=status)
        page = Paginator(deliveries, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page, status=status, statuses=Delivery.Status.choices, **kwargs
        )
