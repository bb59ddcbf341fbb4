"""The roles a person can hold; shared by access checks, navigation and every feature."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    PROJECT_GROUP = "project_group"
    ADMIN = "admin"
    AUTHOR = "author"  # writes courses in the browser: creates them and edits those naming them as editors

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.MANAGER: _l("Manager"),
    Role.PROJECT_GROUP: _l("Project group"),
    Role.ADMIN: _l("Administrator"),
    Role.AUTHOR: _l("Course author"),
}
