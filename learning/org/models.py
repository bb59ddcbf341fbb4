"""Organisation: departments, teams, people and their roles."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from learning.db import TimestampMixin, db, utcnow
from learning.pagecache import Shown
from learning.roles import Role

team_manager = Table(
    "team_manager",
    db.Model.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    info={"page_cache": Shown.EVERYONE},
)


class Department(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    teams: Mapped[list[Team]] = relationship(back_populates="department", order_by="Team.name")

    def __str__(self) -> str:
        return self.name


class Team(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department] = relationship(back_populates="teams")
    managers: Mapped[list[User]] = relationship(
        secondary=team_manager, back_populates="managed_teams", order_by="User.last_name"
    )
    members: Mapped[list[User]] = relationship(
        back_populates="team", order_by="User.last_name", foreign_keys="User.team_id"
    )

    def __str__(self) -> str:
        return self.name


class UserRole(db.Model):
    __page_cache__ = Shown.EVERYONE

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    employee_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    start_date: Mapped[date | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Rotated on every password change, deactivation and "sign out everywhere": the rotation
    # ends the person's signed-in devices (learning/auth/devices.py) and the mailed links.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_hex(32))
    last_login_at: Mapped[datetime | None]

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    managed_teams: Mapped[list[Team]] = relationship(
        secondary=team_manager, back_populates="managers", order_by="Team.name"
    )
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    # Roles -----------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @roles.setter
    def roles(self, roles) -> None:
        wanted = {Role(r) for r in roles} | {Role.EMPLOYEE}
        self.role_rows = [r for r in self.role_rows if Role(r.role) in wanted]
        present = {Role(r.role) for r in self.role_rows}
        for role in sorted(wanted - present):
            self.role_rows.append(UserRole(role=role.value))

    def has_role(self, *roles: Role | str) -> bool:
        mine = self.roles
        return any(Role(r) in mine for r in roles)

    # Passwords -------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_token = secrets.token_hex(32)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def deactivate(self) -> None:
        self.active = False
        self.deactivated_at = utcnow()
        self.session_token = secrets.token_hex(32)

    def reactivate(self) -> None:
        self.active = True
        self.deactivated_at = None

    # Flask-Login -----------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The signed-in device this instance was loaded through (learning/auth): not a column.
    device_token = None
    device_id = None

    def get_id(self) -> str:
        """What the session and the "stay signed in" cookie carry: the device's token."""
        return self.device_token or ""
