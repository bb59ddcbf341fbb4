"""``flask users ...``: command-line administration of people."""

from flask.cli import AppGroup

users_cli = AppGroup("users", help="People: import from CSV.")
