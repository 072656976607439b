"""Background work for accounts: the password reset email.

The request only queues ``send_password_reset`` with the address as typed, the
same for an address with an account and without, so neither the answer nor its
timing tells them apart; the worker looks the address up and sends the link.
"""

from urllib.parse import urlsplit

from django.tasks import task

from clinic.forms import PasswordResetForm


@task
def send_password_reset(email: str, base_url: str) -> None:
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        site = urlsplit(base_url)
        form.save(domain_override=site.netloc, use_https=site.scheme == "https")
