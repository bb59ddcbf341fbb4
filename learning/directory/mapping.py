"""The directory sync's mapping file (TOML, path in ``LEARNING_DIRECTORY_MAPPING``): read and checked at start.

It says which attributes hold a person's name, e-mail address, employee number and start date;
where departments and teams come from (an attribute, the organisational unit of the entry, or
group membership); who manages a team (the ``manager`` attribute, or groups); which groups give
which roles; how nested groups are resolved; and how a disabled account is recognised. Every
problem is reported as ``FILE:LINE: reason`` (a ``MappingError``), like the course files: a wrong
mapping stops the start instead of a sync that quietly does the wrong thing. The format is
documented in the README's *Directory sync* section. Nothing here talks to the directory or the database.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from learning.roles import Role

# The LDAP_MATCHING_RULE_IN_CHAIN of Active Directory: memberOf through any depth of nested groups.
IN_CHAIN_RULE = "1.2.840.113556.1.4.1941"
NESTING = ("in_chain", "walk", "none")  # Active Directory's rule, the platform follows `member`, direct only
SOURCES = ("attribute", "ou", "groups")
ROLE_KEYS = ("project_group", "admin", "author")
ATTRIBUTE_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)?")

TOP_KEYS = {"people", "disabled", "groups", "department", "team", "managers", "roles", "sync"}
SECTION_KEYS = {
    "people": {"first_name", "last_name", "email", "employee_number", "start_date", "username"},
    "disabled": {"user_account_control", "attribute", "values"},
    "groups": {"base", "filter", "member_attribute", "nested"},
    "department": {"from", "attribute", "ou_level", "groups"},
    "team": {"from", "attribute", "ou_level", "groups"},
    "managers": {"attribute", "groups"},
    "roles": set(ROLE_KEYS),
    "sync": {"page_size", "max_deactivate_share"},
}


class MappingError(Exception):
    """The mapping file is wrong; the message is ``FILE:LINE: reason`` (one per problem, one per line)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def normal_dn(dn: str) -> str:
    """A distinguished name in one spelling: lower case, no spaces around the separators."""
    parts = re.split(r"(?<!\\),", dn)
    return ",".join("=".join(side.strip() for side in part.split("=", 1)) for part in parts).lower()


@dataclass(frozen=True)
class Placement:
    """Where a department or team comes from: an attribute, the OU at a level below the base, or groups."""

    source: str = ""  # "" (not synced), "attribute", "ou" or "groups"
    attribute: str = ""
    ou_level: int = 1
    groups: dict[str, str] = field(default_factory=dict)  # normalised group DN -> name


@dataclass(frozen=True)
class Mapping:
    path: str = ""
    first_name: str = "givenName"
    last_name: str = "sn"
    email: str = "mail"
    employee_number: str = ""
    start_date: str = ""
    username: str = ""  # "" : LEARNING_LDAP_LOGIN_ATTRIBUTE
    user_account_control: bool = False
    disabled_attribute: str = ""
    disabled_values: frozenset[str] = frozenset()
    groups_base: str = ""  # "" : LEARNING_LDAP_BASE_DN
    groups_filter: str = "(|(objectClass=group)(objectClass=groupOfNames))"
    member_attribute: str = "member"
    nested: str = "none"
    department: Placement = Placement()
    team: Placement = Placement()
    manager_attribute: str = ""
    manager_groups: frozenset[str] = frozenset()
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # role value -> normalised group DNs
    page_size: int = 500
    max_deactivate_share: float | None = None  # None: LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE

    @property
    def group_dns(self) -> frozenset[str]:
        """Every group the mapping names: only these memberships are read."""
        names = set(self.manager_groups) | set(self.department.groups) | set(self.team.groups)
        for groups in self.roles.values():
            names |= groups
        return frozenset(names)

    def mapped_roles(self) -> dict[Role, frozenset[str]]:
        """Groups per role the platform knows (``author`` only where the platform has that role)."""
        known = {role.value: role for role in Role}
        return {known[name]: groups for name, groups in self.roles.items() if name in known}

    def attributes(self) -> tuple[str, ...]:
        """The attributes a person's entry is read with."""
        names = [self.first_name, self.last_name, self.email, self.employee_number, self.start_date, self.username,
                 self.disabled_attribute, self.manager_attribute, self.department.attribute, self.team.attribute,
                 "displayName", "cn"]
        if self.user_account_control:
            names.append("userAccountControl")
        return tuple(dict.fromkeys(name for name in names if name))


class _Reader:
    def __init__(self, path: str, text: str):
        self.path, self.lines, self.problems = path, text.splitlines(), []

    def section_line(self, section: str) -> int:
        pattern = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 1)

    def line_of(self, section: str, key: str) -> int:
        start = self.section_line(section) if section else 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines[start - 1:], start):
            if pattern.match(line):
                return number
        return start

    def problem(self, line: int, reason: str) -> None:
        self.problems.append(f"{self.path}:{line}: {reason}")

    def table(self, data: dict, section: str) -> dict:
        value = data.get(section, {})
        if not isinstance(value, dict):
            self.problem(self.line_of("", section), f"{section!r} must be a table: [{section}]")
            return {}
        for key in value.keys() - SECTION_KEYS.get(section, set()):
            self.problem(self.line_of(section, key), f"unknown key {key!r} in [{section}]")
        return value

    def attribute(self, table: dict, section: str, key: str, default: str = "") -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or (value and not ATTRIBUTE_RE.fullmatch(value)):
            self.problem(self.line_of(section, key), f"{key!r} must be an attribute name such as \"mail\"")
            return default
        return value

    def dn_list(self, value, section: str, key: str) -> frozenset[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and "=" in v for v in value):
            self.problem(self.line_of(section, key), f"{key!r} must be a list of group DNs such as "
                                                     f"[\"CN=Admins,OU=Groups,DC=example,DC=local\"]")
            return frozenset()
        return frozenset(normal_dn(v) for v in value)

    def placement(self, data: dict, section: str) -> Placement:
        table = self.table(data, section)
        if not table:
            return Placement()
        source = table.get("from", "")
        if source not in SOURCES:
            self.problem(self.line_of(section, "from"), f"'from' must be one of {', '.join(SOURCES)}")
            return Placement()
        attribute = self.attribute(table, section, "attribute")
        level = table.get("ou_level", 1 if section == "department" else 2)
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 10:
            self.problem(self.line_of(section, "ou_level"), "'ou_level' must be a whole number from 1 to 10")
            level = 1
        groups = table.get("groups", {})
        names: dict[str, str] = {}
        if not isinstance(groups, dict):
            self.problem(self.line_of(section, "groups"), f"'groups' must be a table: [{section}.groups]")
        else:
            for dn, name in groups.items():
                if "=" not in dn or not isinstance(name, str) or not name.strip() or len(name) > 241:
                    self.problem(self.line_of(f"{section}.groups", dn),
                                 f"{dn!r} must be a group DN with a {section} name as its value")
                else:
                    names[normal_dn(dn)] = " ".join(name.split())
        if source == "attribute" and not attribute:
            self.problem(self.line_of(section, "from"), "'from = \"attribute\"' needs 'attribute'")
        if source == "groups" and not names:
            self.problem(self.line_of(section, "from"), f"'from = \"groups\"' needs a table [{section}.groups]")
        return Placement(source=source, attribute=attribute, ou_level=level, groups=names)


def read_mapping(text: str, path: str = "mapping.toml") -> Mapping:
    """The mapping in ``text``; raises MappingError with every problem as ``FILE:LINE: reason``."""
    reader = _Reader(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise MappingError([f"{path}:{match.group(1) if match else 1}: not valid TOML: {exc}"]) from None
    for key in data.keys() - TOP_KEYS:
        reader.problem(reader.line_of("", key), f"unknown section {key!r}; known are {', '.join(sorted(TOP_KEYS))}")

    people = reader.table(data, "people")
    values = {key: reader.attribute(people, "people", key, default)
              for key, default in (("first_name", "givenName"), ("last_name", "sn"), ("email", "mail"),
                                   ("employee_number", ""), ("start_date", ""), ("username", ""))}
    for key in ("first_name", "last_name", "email"):
        if not values[key]:
            reader.problem(reader.line_of("people", key), f"{key!r} must name an attribute")

    disabled = reader.table(data, "disabled")
    uac = disabled.get("user_account_control", False)
    if not isinstance(uac, bool):
        reader.problem(reader.line_of("disabled", "user_account_control"),
                       "'user_account_control' must be true or false")
        uac = False
    disabled_attribute = reader.attribute(disabled, "disabled", "attribute")
    disabled_values = disabled.get("values", [])
    if not isinstance(disabled_values, list) or not all(isinstance(v, str) and v for v in disabled_values):
        reader.problem(reader.line_of("disabled", "values"), "'values' must be a list of texts")
        disabled_values = []
    if disabled_attribute and not disabled_values:
        reader.problem(reader.line_of("disabled", "attribute"), "'attribute' needs 'values': the values that mean "
                                                               "disabled, e.g. [\"disabled\"]")

    groups = reader.table(data, "groups")
    groups_base = groups.get("base", "")
    if not isinstance(groups_base, str) or (groups_base and "=" not in groups_base):
        reader.problem(reader.line_of("groups", "base"),
                       "'base' must be a DN such as \"OU=Groups,DC=example,DC=local\"")
        groups_base = ""
    groups_filter = groups.get("filter", Mapping.groups_filter)
    if not isinstance(groups_filter, str) or not (groups_filter.startswith("(") and groups_filter.endswith(")")
                                                  and groups_filter.count("(") == groups_filter.count(")")):
        reader.problem(reader.line_of("groups", "filter"), "'filter' must be an LDAP filter in parentheses")
        groups_filter = Mapping.groups_filter
    member_attribute = reader.attribute(groups, "groups", "member_attribute", "member") or "member"
    nested = groups.get("nested", "none")
    if nested not in NESTING:
        reader.problem(reader.line_of("groups", "nested"), f"'nested' must be one of {', '.join(NESTING)}: "
                       "\"in_chain\" for Active Directory, \"walk\" for OpenLDAP and others")
        nested = "none"

    managers = reader.table(data, "managers")
    manager_attribute = reader.attribute(managers, "managers", "attribute")
    manager_groups = reader.dn_list(managers.get("groups", []), "managers", "groups")

    roles_table = reader.table(data, "roles")
    roles = {key: reader.dn_list(value, "roles", key) for key, value in roles_table.items() if key in ROLE_KEYS}

    sync = reader.table(data, "sync")
    page_size = sync.get("page_size", 500)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 1000:
        reader.problem(reader.line_of("sync", "page_size"), "'page_size' must be a whole number from 1 to 1000 "
                                                            "(Active Directory answers at most 1000 per page)")
        page_size = 500
    share = sync.get("max_deactivate_share")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1):
        reader.problem(reader.line_of("sync", "max_deactivate_share"),
                       "'max_deactivate_share' must be a share from 0 to 1, e.g. 0.1 for 10 %")
        share = None

    department, team = reader.placement(data, "department"), reader.placement(data, "team")
    if team.source and not department.source:
        reader.problem(reader.section_line("team"), "teams need departments: add a [department] section")
    if reader.problems:
        raise MappingError(reader.problems)
    return Mapping(path=path, **values, user_account_control=uac, disabled_attribute=disabled_attribute,
                   disabled_values=frozenset(v.casefold() for v in disabled_values), groups_base=groups_base,
                   groups_filter=groups_filter, member_attribute=member_attribute, nested=nested,
                   department=department, team=team, manager_attribute=manager_attribute,
                   manager_groups=manager_groups, roles=roles, page_size=page_size,
                   max_deactivate_share=None if share is None else float(share))


def load_mapping(path: str) -> Mapping:
    """The mapping file at ``path`` (``""``: the defaults); raises MappingError."""
    if not path:
        return Mapping()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([f"{path}:1: cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise MappingError([f"{path}:1: the file is not UTF-8 text"]) from None
    return read_mapping(text, path)
