import json

from django import forms
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from clinic.forms import clean_picture
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region
from exercises.services import (
    LibraryError,
    exercises_set_status,
    library_export,
    library_load,
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class NamedFieldsFormSet(BaseInlineFormSet):
    """The admin shows an inline's fields under column headings only, which screen
    readers do not read for each box: every field also gets its own name, "Step 2:
    Text", "Delete step 2" (the empty row that "Add another" copies: "New step: Text")."""

    noun = "row"

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = f"{self.noun} {index + 1}" if index is not None else f"new {self.noun}"
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            words = f"Delete {row}" if name == "DELETE" else f"{row}: {field.label or name}"
            field.widget.attrs["aria-label"] = words[0].upper() + words[1:]


class StepFormSet(NamedFieldsFormSet):
    noun = "step"


class ImageFormSet(NamedFieldsFormSet):
    noun = "picture"


class StepInline(admin.TabularInline):
    model = ExerciseStep
    formset = StepFormSet
    extra = 1


class ExerciseImageForm(forms.ModelForm):
    class Meta:
        model = ExerciseImage
        fields = ["image", "alt_text", "is_main", "credit", "order"]

    def clean_image(self):
        return clean_picture(self.cleaned_data.get("image"))

    def save(self, commit=True):
        if "image" in self.changed_data:
            # A new picture replaces a drawing: its moving version and side went with it.
            self.instance.animation = ""
            self.instance.side = ""
        return super().save(commit)


def thumbnail(image, size=72):
    if not image:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" style="max-height:{}px;max-width:{}px;background:#fff">',
        image.image.url,
        image.alt_text,
        size,
        size,
    )


class ImageInline(admin.TabularInline):
    model = ExerciseImage
    form = ExerciseImageForm
    formset = ImageFormSet
    extra = 0
    readonly_fields = ["preview"]
    fields = ["preview", "image", "alt_text", "is_main", "credit", "order"]

    @admin.display(description="Picture")
    def preview(self, obj):
        return thumbnail(obj) if obj.pk else "—"


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A library JSON file, as made by “Export selected as JSON”.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise forms.ValidationError(f"The file is not valid JSON: {error}") from error


@admin.register(Exercise)
class ExerciseAdmin(SimpleHistoryAdmin):
    list_display = ["picture", "name", "status", "position", "difficulty", "clinic", "updated_at"]
    list_display_links = ["picture", "name"]
    list_filter = ["status", "regions", "categories", "equipment", "position", "clinic"]
    search_fields = ["name", "slug", "aliases", "summary", "indications"]
    prepopulated_fields = {"slug": ["name"]}
    # Ticks for the short lists, a plain list box for the related exercises: Django's
    # two-box filter gave its icons names axe-core refuses, and the search box of its
    # autocomplete has no label.
    inlines = [StepInline, ImageInline]
    actions = ["publish", "retire", "export_json"]
    change_list_template = "admin/exercises/exercise/change_list.html"
    change_form_template = "admin/exercises/exercise/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "slug", "aliases", "summary", "status", "clinic", "language"]}),
        ("For the patient", {"fields": ["indications", "why", "setup", "cues", "cautions"]}),
        (
            "Default dose",
            {
                "fields": [
                    "hold_seconds",
                    "reps",
                    "sets",
                    "side",
                    "times_per_day",
                    "days_per_week",
                ]
            },
        ),
        (
            "Classification",
            {
                "fields": [
                    "position",
                    "difficulty",
                    "regions",
                    "categories",
                    "equipment",
                    "related",
                    "easier",
                    "video_url",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("images")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("regions", "categories", "equipment"):
            kwargs["widget"] = forms.CheckboxSelectMultiple
        elif db_field.name == "related":
            kwargs["widget"] = forms.SelectMultiple(attrs={"size": 12})
            kwargs["help_text"] = "Exercises to suggest with this one."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="")
    def picture(self, obj):
        main = next((i for i in obj.images.all() if i.is_main), None)
        return thumbnail(main, size=48)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="exercises_exercise_import",
            ),
        ]
        return extra + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return redirect("admin:index")
        form = ImportForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            try:
                report = library_load(entries=form.cleaned_data["file"])
            except LibraryError as error:
                problems = error.problems
            else:
                self.message_user(request, f"Library imported: {report}.", messages.SUCCESS)
                return redirect("admin:exercises_exercise_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import exercises",
            "form": form,
            "problems": problems,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/exercises/exercise/import.html", context)

    @admin.action(description="Publish selected exercises")
    def publish(self, request, queryset):
        count = exercises_set_status(
            exercises=queryset, status=Exercise.Status.PUBLISHED, by=request.user
        )
        self.message_user(request, f"{count} exercise(s) published.")

    @admin.action(
        description="Retire selected exercises (hidden from search, kept on old handouts)"
    )
    def retire(self, request, queryset):
        count = exercises_set_status(
            exercises=queryset, status=Exercise.Status.RETIRED, by=request.user
        )
        self.message_user(request, f"{count} exercise(s) retired.")

    @admin.action(description="Export selected as JSON")
    def export_json(self, request, queryset):
        data = json.dumps(library_export(queryset.order_by("name")), indent=2, ensure_ascii=False)
        response = HttpResponse(data, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="openhep-exercises.json"'
        return response


for model in (Region, Category, Equipment):
    admin.site.register(
        model, list_display=["name", "slug", "order"], prepopulated_fields={"slug": ["name"]}
    )
