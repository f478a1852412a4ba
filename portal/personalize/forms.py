"""Forms only carry text (and CSRF): the services validate, so a form and the CSV import answer alike."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from portal.personalize.models import BASES, PROFILE_KINDS


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False, html_tag="ul")
    option_widget = CheckboxInput()


class CategoryForm(FlaskForm):
    name = StringField("Nome da categoria")
    position = StringField("Ordem")


class ItemForm(FlaskForm):
    category_id = SelectField("Categoria", choices=[], validate_choice=False)
    name = StringField("Nome do item")
    description = TextAreaField("Descrição")
    basis = SelectField("Como é medido", choices=list(BASES.items()), validate_choice=False)
    position = StringField("Ordem")


class OptionForm(FlaskForm):
    name = StringField("Nome da opção")
    description = TextAreaField("Descrição")
    manufacturer_url = StringField("Link do fabricante")
    price = StringField("Preço (R$)")
    is_standard = BooleanField("Opção padrão (sem custo)")
    available = BooleanField("Disponível para escolha", default=True)
    position = StringField("Ordem")


class PhotoForm(FlaskForm):
    photo = FileField("Foto (JPEG, PNG ou WebP)")


class WindowForm(FlaskForm):
    name = StringField("Nome")
    opens_at = StringField("Abre em")
    closes_at = StringField("Encerra em")
    tower_id = SelectField("Torre", choices=[], validate_choice=False)
    typology_id = SelectField("Tipologia", choices=[], validate_choice=False)
    category_ids = CheckboxesField("Categorias abertas", choices=[], validate_choice=False)


class BuyerForm(FlaskForm):
    name = StringField("Nome")
    email = StringField("E-mail")
    phone = StringField("Celular")
    cpf = StringField("CPF")


class UnitPickForm(FlaskForm):
    development_id = SelectField("Empreendimento", choices=[], validate_choice=False)
    tower = StringField("Torre")
    unit = StringField("Unidade")


class ReopenForm(FlaskForm):
    reason = StringField("Motivo da reabertura")


class ProfileFieldForm(FlaskForm):
    label = StringField("Nome do campo")
    kind = SelectField("Tipo", choices=list(PROFILE_KINDS.items()), validate_choice=False)
    choices = StringField("Opções (separe por vírgula)")
    position = StringField("Ordem")
    active = BooleanField("Ativo", default=True)
