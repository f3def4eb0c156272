"""Extensions created unbound; create_app() binds them, so importing has no side effects."""

import sqlalchemy as sa
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, registry

from webapp.core import sqlite_setup  # noqa: F401 (SQLite connections: foreign keys, unicode lower)

# Alembic batch mode on SQLite needs named constraints; "ix" must be present (SQLAlchemy asserts).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base; the registry carries the naming convention (flask-sqlalchemy #1361)."""

    registry = registry(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
