"""The schema is only ever built by the migrations: every revision goes down to nothing and up again."""
import os

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db


def test_every_migration_downgrades_to_base_and_upgrades_again(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/migrations.db",
                      "INSTANCE_DIR": os.environ["PORTAL_INSTANCE_DIR"]})
    with app.app_context():
        upgrade()
        head_tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= head_tables  # every model has its table
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == head_tables
        db.engine.dispose()
