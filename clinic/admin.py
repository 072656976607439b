from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from clinic.forms import ClinicForm
from clinic.models import AuditEntry, Clinic, Invitation, Membership, User

admin.site.site_header = "OpenHEP administration"
admin.site.site_title = "OpenHEP administration"
admin.site.index_title = "Library curation and site administration"


class ClinicAdminForm(ClinicForm):
    """The clinic settings form (same checks: logo, one-line name), plus the slug."""

    class Meta(ClinicForm.Meta):
        fields = ["slug", *ClinicForm.Meta.fields]


class MembershipInline(admin.StackedInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    form = ClinicAdminForm
    list_display = ["name", "phone", "email", "paper_size"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        # Deleting a clinic would take its patients, handouts and audit trail with it,
        # past every service that records and cleans up. Closing a clinic is an
        # operator's job (docs/operations.md), not a click.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "clinic", "role"]
    list_filter = ["role", "clinic"]
    autocomplete_fields = ["user", "clinic"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "clinic", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["clinic", "role"]
    search_fields = ["email"]
    """Invitations are made by clinic admins on their Staff page (which sends the link);
    here they can be read and cancelled or shortened, not created or redirected."""

    # The token's hash is useless to read and must not be edited.
    exclude = ["token_hash"]
    readonly_fields = [
        "clinic",
        "email",
        "role",
        "title",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is evidence, so nobody adds, changes or deletes an entry."""

    list_display = ["at", "clinic", "actor_email", "action", "patient_ref", "target", "detail"]
    list_filter = ["action", "clinic"]
    search_fields = ["actor_email", "=patient_ref"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
