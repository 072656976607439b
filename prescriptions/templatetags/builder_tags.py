from django import template

from prescriptions.session_time import SessionTime, session_time

register = template.Library()


@register.simple_tag
def plan_session_time(formset) -> SessionTime:
    """The builder's plan: how long a session of its exercises takes, from the doses
    as the plan shows them."""
    return session_time(form.instance.dose for form in formset.forms if form.instance.pk)
