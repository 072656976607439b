"""Error reports without patient data.

A 500 email or log line must not carry what a therapist typed (a patient's
name in a search box, their notes in a form) nor what a view held in its
variables. Production reports keep the names, never the values.
"""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

HIDDEN = "********************"


class NoPatientDataReporterFilter(SafeExceptionReporterFilter):
    cleansed_substitute = HIDDEN

    def get_post_parameters(self, request):
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return self._cleanse_multivaluedict(request.POST, "__ALL__")

    # Only these request headers and server variables are shown; any other (RAW_URI,
    # HX-Current-URL, Referer, cookies, the query string…) may carry what was typed.
    SHOWN_META = frozenset(
        {
            "REQUEST_METHOD",
            "PATH_INFO",
            "SCRIPT_NAME",
            "SERVER_NAME",
            "SERVER_PORT",
            "SERVER_PROTOCOL",
            "CONTENT_TYPE",
            "CONTENT_LENGTH",
            "HTTP_HOST",
            "HTTP_USER_AGENT",
            "HTTP_ACCEPT",
            "HTTP_HX_REQUEST",
            "HTTP_HX_TARGET",
            "wsgi.url_scheme",
        }
    )

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if self.is_active(request):
            meta = {
                key: (value if key in self.SHOWN_META else HIDDEN) for key, value in meta.items()
            }
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, HIDDEN) for name in tb_frame.f_locals]


class NoPatientDataReporter(ExceptionReporter):
    """Also hides the query string, which Django's reporter shows unfiltered."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None and self.filter.is_active(self.request):
            data["request_GET_items"] = [(key, HIDDEN) for key in self.request.GET]
            data["request_FILES_items"] = [(key, HIDDEN) for key in self.request.FILES]
            data["request_insecure_uri"] = self.request.path
            if data.get("exception_value"):
                # An exception's message can quote input ("invalid literal…: 'Jordan'");
                # its type, file and line are what a developer needs first.
                data["exception_value"] = f"({data.get('exception_type', 'error')}: message hidden)"
        return data
