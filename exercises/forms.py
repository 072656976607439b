from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Layout, Row, Submit
from django import forms

from clinic.forms import clean_picture
from exercises.dose import COUNTS, Dose, count_validators
from exercises.models import Category, Equipment, Exercise, Region, lines
from exercises.selectors import taxonomy_choices
from exercises.wording import refusals

DOSE = list(Dose.FIELDS)


# The largest id any of our databases stores: a bigger one must not reach a query.
MAX_ID = 2**63 - 1


class TaxonomyField(forms.ModelMultipleChoiceField):
    """Checkboxes of regions, categories or equipment. An id past 64 bits is refused
    before the lookup, which SQLite would answer with an OverflowError (a 500)."""

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            try:
                too_big = abs(int(pk)) > MAX_ID
            except (TypeError, ValueError):
                continue  # Django's own check calls it not a valid value.
            if too_big:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


def dose_inputs(form) -> None:
    """The form's dose counts check the dose rule's range themselves (the model field
    would give them "0 or more"), so a bad number gets the rule's message at once."""
    for name in COUNTS:
        field = form.fields[name]
        field.validators = count_validators(name)
        field.widget.attrs.update({"inputmode": "numeric", "min": 1})


class ExerciseForm(forms.ModelForm):
    """A clinic's own exercise, written in the staff app."""

    steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "One step per line, in order. No hold times, counts or sides: the prescription's "
            "dose is printed on the card. Write {hold} where a step needs the hold time."
        ),
        error_messages={"required": "Write at least one step."},
    )
    image = forms.ImageField(
        label="Picture",
        required=False,
        help_text="JPEG, PNG or WebP, up to 5 MB. Replaces the current picture.",
    )
    image_alt = forms.CharField(
        label="Describe the picture",
        required=False,
        max_length=250,
        help_text="For patients who use a screen reader, e.g. “A person lunges beside a wall”.",
    )
    regions = TaxonomyField(
        Region.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    categories = TaxonomyField(
        Category.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    equipment = TaxonomyField(
        Equipment.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Exercise
        fields = [
            "name",
            "summary",
            "aliases",
            "indications",
            "why",
            "setup",
            "cues",
            "cautions",
            *DOSE,
            "position",
            "difficulty",
            "regions",
            "categories",
            "equipment",
            "easier",
            "video_url",
        ]
        widgets = {
            "why": forms.Textarea(attrs={"rows": 2}),
            "setup": forms.Textarea(attrs={"rows": 2}),
            "cues": forms.Textarea(attrs={"rows": 2}),
            "cautions": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, clinic=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["steps"] = "\n".join(s.text for s in self.instance.steps.all())
        if clinic is not None and self.instance.pk is None:
            # The model's check of the easier version needs to know whose exercise it is.
            self.instance.clinic = clinic
        easier = self.fields["easier"]
        assert isinstance(easier, forms.ModelChoiceField)
        easier.queryset = (
            Exercise.objects.published()
            .visible_to(clinic or self.instance.clinic)
            .exclude(pk=self.instance.pk)
            .order_by("name")
        )
        easier.empty_label = "None"
        easier.help_text = "The same movement, one step easier (shown on the exercise page)."
        dose_inputs(self)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Field("name"),
            Field("summary"),
            Field("aliases"),
            Field("indications"),
            Field("steps"),
            Field("setup"),
            Field("cues"),
            Field("cautions"),
            Field("why"),
            HTML('<h2 class="h6 mt-3">Default dose</h2>'),
            Row(*[Column(name, css_class="col-6 col-md-2") for name in DOSE]),
            Row(
                Column("position", css_class="col-md-6"), Column("difficulty", css_class="col-md-6")
            ),
            Row(
                Column("regions", css_class="col-md-4"),
                Column("categories", css_class="col-md-4"),
                Column("equipment", css_class="col-md-4"),
            ),
            Field("easier"),
            Field("video_url"),
            Row(Column("image", css_class="col-md-6"), Column("image_alt", css_class="col-md-6")),
            Submit("save", "Save exercise"),
        )

    def clean_steps(self):
        steps = lines(self.cleaned_data["steps"])
        if not steps:
            raise forms.ValidationError("Write at least one step.")
        if len(steps) > 20:
            raise forms.ValidationError("Keep it to 20 steps or fewer.")
        if messages := refusals(steps, label="Step"):
            raise forms.ValidationError(messages, code="dose_in_text")
        return steps

    def clean_image(self):
        return clean_picture(self.cleaned_data.get("image"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("image") and not cleaned.get("image_alt"):
            self.add_error("image_alt", "Describe the picture for patients who cannot see it.")
        return cleaned


def _select(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": f"Unknown {label.lower()}: showing all."},
    )


class LibrarySearchForm(forms.Form):
    """The library's search box and filters, read from the query string
    (``?q=…&region=…&category=…&equipment=…&position=…&favourites=on&page=…``).

    A value that names nothing (an old link, an edited URL) is an error shown
    beside its field and is left out of the search: never a 500, and the
    database never sees it. The regions, categories and equipment are offered
    by slug, read once each for both the check and the drop-down.
    """

    TERMS = ("q", "region", "category", "equipment", "position")
    # The search words are cut to this length, not refused: each word is tested
    # on every row, so a pasted paragraph must not cost more than a sentence.
    MAX_QUERY = 100

    q = forms.CharField(
        label="Search exercises",
        required=False,
        widget=forms.SearchInput(
            attrs={
                "class": "form-control",
                "placeholder": "Search: name, muscle, problem (e.g. psoas, hip flexor)",
            }
        ),
    )
    region = _select("Body region")
    category = _select("Category")
    equipment = _select("Equipment")
    position = _select("Position")
    # Only the exercises the user starred (exercises.favourites).
    favourites = forms.BooleanField(label="Favourites only", required=False)
    # Carried by the page links, not by the form: a new search starts at page 1.
    # Not a number reads as page 1, as Paginator.get_page reads it.
    page = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, **kwargs):
        # Ids without the "id_" prefix: the builder's live search listens to "#q".
        super().__init__(data, auto_id="%s", **kwargs)
        taxonomy = taxonomy_choices()
        for name, anything in (
            ("region", "All regions"),
            ("category", "All categories"),
            ("equipment", "Any equipment"),
        ):
            self.fields[name].choices = [("", anything), *taxonomy[name]]
        self.fields["position"].choices = [("", "Any position"), *Exercise.Position.choices]

    def clean_q(self) -> str:
        return self.cleaned_data["q"][: self.MAX_QUERY]

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # Bootstrap shows a field's error next to an .is-invalid
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    def terms(self) -> dict[str, str]:
        """The search words and filters that are valid; one in error counts as not given."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) or "" for name in self.TERMS}

    @property
    def page_number(self) -> int | None:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("page")

    @property
    def favourites_only(self) -> bool:
        self.is_valid()
        return bool(getattr(self, "cleaned_data", {}).get("favourites"))

    @property
    def is_filtered(self) -> bool:
        """Anything typed or chosen, valid or not (so there is something to clear)."""
        return any(self.data.get(name) for name in (*self.TERMS, "favourites"))

    @property
    def is_searching(self) -> bool:
        """Words in the search box: the builder then shows its results alone."""
        return bool(self.data.get("q", "").strip())
