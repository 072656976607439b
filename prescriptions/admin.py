"""Patient data (prescriptions, handouts, deliveries) is not in the Django admin: staff
change it only through the app's pages and services, which keep the audit trail.

The admin keeps the shared program templates, and gives the library's exercise
page a handout preview (a handout feature, so it is added here, above ``exercises``).
"""

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path

from exercises.admin import ExerciseAdmin
from exercises.models import Exercise
from prescriptions.handouts import render_pdf
from prescriptions.models import ProgramTemplate, TemplateItem
from prescriptions.selectors import exercise_preview_snapshot


class ExerciseWithPreviewAdmin(ExerciseAdmin):
    def get_urls(self):
        preview = path(
            "<int:pk>/preview.pdf",
            self.admin_site.admin_view(self.preview_view),
            name="exercises_exercise_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request, pk):
        if not self.has_view_permission(request):
            return redirect("admin:index")
        exercise = get_object_or_404(Exercise.objects.prefetch_related("steps", "images"), pk=pk)
        pdf = render_pdf(exercise_preview_snapshot(exercise), draft=True, mark="PREVIEW")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="preview-{exercise.slug}.pdf"'
        return response


admin.site.unregister(Exercise)
admin.site.register(Exercise, ExerciseWithPreviewAdmin)


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    extra = 0
    autocomplete_fields = ["exercise"]


@admin.register(ProgramTemplate)
class ProgramTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "updated_at"]
    list_filter = ["clinic"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TemplateItemInline]
