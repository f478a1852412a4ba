"""Forms only carry text: the services validate, so every message is the same pt-BR one the CSV import shows."""
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField

from portal.realestate.models import DEVELOPMENT_STATUSES, UNIT_STATUSES


class DevelopmentForm(FlaskForm):
    name = StringField("Nome")
    slug = StringField("Código (usado em endereços)")
    address = StringField("Endereço")
    city = StringField("Cidade")
    state = StringField("UF")
    status = SelectField("Situação", choices=list(DEVELOPMENT_STATUSES.items()), validate_choice=False)
    staff_ids = SelectMultipleField("Equipe de personalização", choices=[], validate_choice=False)


class TowerForm(FlaskForm):
    name = StringField("Nome da torre")


class TypologyForm(FlaskForm):
    name = StringField("Nome da tipologia")
    bedrooms = StringField("Dormitórios")
    private_area_m2 = StringField("Área privativa (m²)")


class UnitForm(FlaskForm):
    tower_id = SelectField("Torre", choices=[], validate_choice=False)
    number = StringField("Unidade")
    floor = StringField("Andar")
    typology_id = SelectField("Tipologia", choices=[], validate_choice=False)
    private_area_m2 = StringField("Área privativa (m²)")
    status = SelectField("Situação", choices=list(UNIT_STATUSES.items()), validate_choice=False)


def area_text(value) -> str:
    return "" if value is None else format(value, "f").replace(".", ",")
