"""The clinic's dose presets per exercise category (clinic settings, not patient data)."""

from django.db import transaction

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic
from exercises.dose import Dose
from prescriptions.models import DosePreset


@transaction.atomic
def dose_presets_save(*, clinic, forms, actor: Actor) -> int:
    """Save valid ``DosePresetForm``s: a filled row sets its category's preset, an empty
    row removes it. Returns how many presets changed; a change is audited as a clinic
    settings change naming the categories (never anything about a patient)."""
    # The clinic's row is the lock: two admins saving a first preset for one category
    # at once would otherwise both insert it.
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    current = {
        p.category_id: p for p in DosePreset.objects.select_for_update().filter(clinic=clinic)
    }
    changed = []
    for form in forms:
        category = form.cleaned_data["category"]
        preset = current.get(category.pk)
        if form.is_empty:
            if preset is not None:
                preset.delete()
                changed.append(category.name)
            continue
        dose = {name: form.cleaned_data[name] for name in Dose.FIELDS}
        dose["side"] = dose["side"] or DosePreset._meta.get_field("side").default
        if preset is not None and all(getattr(preset, k) == v for k, v in dose.items()):
            continue
        preset = preset or DosePreset(clinic=clinic, category=category)
        for name, value in dose.items():
            setattr(preset, name, value)
        preset.full_clean()
        preset.save()
        changed.append(category.name)
    if changed:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.SETTINGS,
            clinic=clinic,
            detail="Dose presets: " + ", ".join(changed),
        )
    return len(changed)
