"""The people list's filters, read once from the query string and applied as SQL.

The list page and its bulk action "send first-password links" to everyone the filters find use
the same :class:`PeopleFilter`, so "all filtered" means exactly the people the admin saw listed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Select, select

from learning.guards import int_arg
from learning.org.models import Team, User, UserRole
from learning.org.search import person_matches, search_text
from learning.roles import Role

STATUSES = ("active", "inactive", "all")
PASSWORDS = ("", "none")  # all, no password yet


@dataclass(frozen=True)
class PeopleFilter:
    q: str = ""
    department: int | None = None
    role: str = ""
    status: str = "active"
    password: str = ""

    @classmethod
    def from_args(cls, args) -> PeopleFilter:
        """The filters of a query string (or form); unknown values fall back to "all" or "active"."""
        role = args.get("role", "")
        status = args.get("status", "active")
        password = args.get("password", "")
        return cls(q=search_text(args.get("q")), department=int_arg("department", source=args),
                   role=role if role in {r.value for r in Role} else "",
                   status=status if status in STATUSES else "active",
                   password=password if password in PASSWORDS else "")

    def apply(self, query: Select) -> Select:
        """``query`` (selecting from ``User``) narrowed to the people these filters find."""
        if self.q:
            query = query.where(person_matches(self.q))
        if self.department:
            query = query.where(User.team_id.in_(select(Team.id).where(Team.department_id == self.department)))
        if self.role:
            query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == self.role)))
        if self.status == "active":
            query = query.where(User.active)
        elif self.status == "inactive":
            query = query.where(User.active.is_(False))
        if self.password == "none":
            query = query.where(User.password_hash.is_(None))
        return query

    def args(self) -> dict:
        """The filters as query-string arguments (empty ones left out), for links and hidden fields."""
        return {key: value for key, value in asdict(self).items() if value not in ("", None)}
