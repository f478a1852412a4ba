import click
from flask.cli import AppGroup

from portal.accounts import services
from portal.accounts.models import ROLES
from portal.extensions import db

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(list(ROLES)), default="admin", show_default=True)
@click.option("--phone", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create(name, email, role, phone, password):
    """Create a user (e.g. the first admin)."""
    try:
        user = services.create_user({"name": name, "email": email, "role": role, "phone": phone}, password=password)
    except services.ServiceError as exc:
        db.session.rollback()
        for field, message in exc.errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(2)
    db.session.commit()
    click.echo(f"Usuário {user.email} ({user.role_label}) criado.")
