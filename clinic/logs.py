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

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if self.is_active(request):
            for key in ("QUERY_STRING", "HTTP_COOKIE", "HTTP_REFERER"):
                if key in meta:
                    meta[key] = HIDDEN
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
        return data
