from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from clinic.access import clinic_of
from clinic.models import Patient


def patient_list(*, user, query: str = "", archived: bool = False) -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic=clinic_of(user), archived=archived)
    for word in query.split():
        patients = patients.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    # Meta.ordering does not apply to aggregating queries: order explicitly.
    return patients.annotate(prescription_count=Count("prescriptions")).order_by(
        "last_name", "first_name", "pk"
    )


def get_patient_for(user, pk) -> Patient:
    return get_object_or_404(Patient, pk=pk, clinic=clinic_of(user))
