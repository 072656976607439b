from django.contrib import admin

from prescriptions.models import (
    Delivery,
    Handout,
    Prescription,
    PrescriptionItem,
    ProgramTemplate,
    TemplateItem,
)


class ItemInline(admin.TabularInline):
    model = PrescriptionItem
    extra = 0
    autocomplete_fields = ["exercise"]


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    list_display = ["title", "patient", "therapist", "status", "created_at", "issued_at"]
    list_filter = ["status", "clinic"]
    search_fields = ["title", "patient__last_name", "patient__first_name"]
    raw_id_fields = ["patient", "therapist"]
    inlines = [ItemInline]


@admin.register(Handout)
class HandoutAdmin(admin.ModelAdmin):
    list_display = ["prescription", "size", "sha256", "created_at"]
    readonly_fields = ["prescription", "pdf", "sha256", "size", "snapshot", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["prescription", "recipient", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Delivery._meta.fields]


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
