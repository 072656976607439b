"""Cross-cutting HTTP wiring."""

from django.utils.cache import patch_cache_control


class NoStoreForStaffMiddleware:
    """Pages shown to a signed-in user carry patient data (names, programs, notes):
    ``Cache-Control: no-store`` keeps them out of the browser's cache on a shared
    clinic computer, and out of any shared cache on the way. Responses that set
    their own caching rules keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
