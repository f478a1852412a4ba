"""Parameter forms for reports: plain WTForms (no CSRF: the same form validates in the web, the
worker and a rule action); the page adds the CSRF token and the format choice around it."""
from wtforms import Form
from wtforms.fields import DateField
from wtforms.validators import Optional

FORMATS = {"pdf": "PDF", "csv": "CSV (Excel)"}


class ParamsForm(Form):
    """Base class of every report's parameters form; messages in pt-BR."""

    class Meta:
        locales = ("pt_BR", "pt")
        csrf = False


class PeriodForm(ParamsForm):
    """A date range (both ends optional, inclusive); subclass it to add more fields."""
    start = DateField("De", validators=[Optional()], format="%Y-%m-%d",
                      render_kw={"type": "date"})
    end = DateField("Até", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"})

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.start.data and self.end.data and self.end.data < self.start.data:
            self.end.errors = list(self.end.errors) + ["A data final deve ser igual ou posterior à inicial."]
            return False
        return ok
