from django import forms
from django.contrib import admin

from clinic.forms import clean_picture
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region


class StepInline(admin.TabularInline):
    model = ExerciseStep
    extra = 1


class ExerciseImageForm(forms.ModelForm):
    class Meta:
        model = ExerciseImage
        fields = ["image", "alt_text", "is_main", "credit", "order"]

    def clean_image(self):
        return clean_picture(self.cleaned_data.get("image"))


class ImageInline(admin.TabularInline):
    model = ExerciseImage
    form = ExerciseImageForm
    extra = 0


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "position", "difficulty", "clinic", "updated_at"]
    list_filter = ["status", "regions", "categories", "equipment", "position", "clinic"]
    search_fields = ["name", "slug", "aliases", "summary", "indications"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["regions", "categories", "equipment", "related"]
    inlines = [StepInline, ImageInline]
    actions = ["publish", "retire"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "aliases", "summary", "status", "clinic"]}),
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
                    "video_url",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish selected exercises")
    def publish(self, request, queryset):
        count = queryset.update(status=Exercise.Status.PUBLISHED)
        self.message_user(request, f"{count} exercise(s) published.")

    @admin.action(
        description="Retire selected exercises (hidden from search, kept on old handouts)"
    )
    def retire(self, request, queryset):
        count = queryset.update(status=Exercise.Status.RETIRED)
        self.message_user(request, f"{count} exercise(s) retired.")


for model in (Region, Category, Equipment):
    admin.site.register(
        model, list_display=["name", "slug", "order"], prepopulated_fields={"slug": ["name"]}
    )
