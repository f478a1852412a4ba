from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.accounts.models import ROLES


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Email("E-mail inválido.")])
    password = PasswordField("Senha", validators=[DataRequired("Informe a senha.")])
    remember = BooleanField("Manter conectado")


class ForgotForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail."), Email("E-mail inválido.")])


class ResetForm(FlaskForm):
    password = PasswordField("Nova senha", validators=[DataRequired("Informe a nova senha."),
                                                       Length(min=8, message="Use ao menos 8 caracteres.")])
    confirm = PasswordField("Confirme a senha", validators=[EqualTo("password", "As senhas não conferem.")])


class ChangePasswordForm(ResetForm):
    current = PasswordField("Senha atual", validators=[DataRequired("Informe a senha atual.")])


class UserForm(FlaskForm):
    name = StringField("Nome", validators=[DataRequired("Informe o nome."), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired("Informe o e-mail.")])
    phone = StringField("Celular", validators=[Optional()])
    cpf = StringField("CPF", validators=[Optional()])
    role = SelectField("Perfil", choices=list(ROLES.items()))
    team_id = SelectField("Equipe", choices=[], validate_choice=False)
    password = PasswordField("Senha inicial", validators=[Optional(),
                             Length(min=8, message="Use ao menos 8 caracteres.")])


class TeamForm(FlaskForm):
    name = StringField("Nome", validators=[DataRequired("Informe o nome da equipe.")])
    parent_id = SelectField("Equipe superior", choices=[], validate_choice=False)
    manager_id = SelectField("Gestor", choices=[], validate_choice=False)
