"""Reading the directory for a sync: every person in scope with the attributes the mapping names, and groups.

``read_directory`` searches people in pages (the simple paged results control, so Active
Directory's 1,000-entry pages are no limit) and resolves the groups the mapping names:

- ``nested = "in_chain"`` (Active Directory): one paged search per mapped group with the matching
  rule LDAP_MATCHING_RULE_IN_CHAIN, which the directory resolves through any depth of nesting;
- ``nested = "walk"`` (OpenLDAP and others, which lack that rule): the groups are read once and the
  platform follows ``member`` through nested groups itself (cycles are harmless);
- ``nested = "none"``: direct membership only.

The result is a list of ``DirectoryPerson``: raw text as the directory holds it, checked only by
the planning (``sync_plan``). Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import ldap3
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from learning.directory.ldap import DirectorySettings, DirectoryUnreachable, service_connection, subject_of
from learning.directory.mapping import IN_CHAIN_RULE, Mapping, normal_dn

ACCOUNT_DISABLE = 0x2  # userAccountControl: the account is disabled


@dataclass(slots=True)
class DirectoryPerson:
    """One entry in the sync's scope, as the directory holds it (texts unchecked)."""

    dn: str
    subject: str
    login: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    employee_number: str = ""
    start_date: str = ""
    department: str = ""
    team: str = ""
    manager: str = ""  # normalised DN of the manager's entry
    disabled: bool = False
    groups: frozenset[str] = frozenset()  # normalised DNs of the mapped groups the person belongs to


def _first(attributes: dict, name: str) -> str:
    if not name:
        return ""
    values = attributes.get(name.lower())
    if isinstance(values, list | tuple):
        values = values[0] if values else ""
    if values is None:
        return ""
    if isinstance(values, bytes):
        values = values.decode("utf-8", "replace")
    return " ".join(str(values).split())


def organisational_units(dn: str, base_dn: str) -> list[str]:
    """The OUs between the base and the entry, from the top down (``OU=Team,OU=Dept,<base>`` → Dept, Team)."""
    try:
        parts = parse_dn(dn, escape=False)
        base = parse_dn(base_dn, escape=False) if base_dn else []
    except Exception:  # noqa: BLE001 - a DN the parser refuses has no usable OUs
        return []
    inner = parts[1:len(parts) - len(base)] if base else parts[1:]
    return [value for attribute, value, _sep in reversed(inner) if attribute.lower() == "ou"]


def person_from_entry(item: dict, settings: DirectorySettings, mapping: Mapping) -> DirectoryPerson | None:
    """A search result as a DirectoryPerson; None without the identifier attribute (it cannot be matched)."""
    raw = item.get("raw_attributes", {})
    identifiers = next((values for name, values in raw.items() if name.lower() == settings.id_attribute.lower()), [])
    if not identifiers:
        return None
    attributes = {name.lower(): values for name, values in item.get("attributes", {}).items()}
    person = DirectoryPerson(dn=item["dn"], subject=subject_of(identifiers[0], settings.id_attribute))
    person.login = _first(attributes, mapping.username or settings.login_attribute)
    person.first_name = _first(attributes, mapping.first_name)
    person.last_name = _first(attributes, mapping.last_name)
    if not (person.first_name and person.last_name):
        display = _first(attributes, "displayName") or _first(attributes, "cn")
        if display and " " in display:
            person.first_name, _sep, person.last_name = display.rpartition(" ")
    person.email = _first(attributes, mapping.email)
    person.employee_number = _first(attributes, mapping.employee_number)
    person.start_date = _first(attributes, mapping.start_date)
    person.manager = normal_dn(_first(attributes, mapping.manager_attribute))
    for placement, target in ((mapping.department, "department"), (mapping.team, "team")):
        if placement.source == "attribute":
            setattr(person, target, _first(attributes, placement.attribute))
        elif placement.source == "ou":
            units = organisational_units(item["dn"], settings.base_dn)
            setattr(person, target, units[placement.ou_level - 1] if len(units) >= placement.ou_level else "")
    if mapping.user_account_control:
        control = _first(attributes, "userAccountControl")
        person.disabled = control.isdigit() and bool(int(control) & ACCOUNT_DISABLE)
    if mapping.disabled_attribute:
        values = attributes.get(mapping.disabled_attribute.lower()) or []
        values = values if isinstance(values, list | tuple) else [values]
        person.disabled |= any(str(v).strip().casefold() in mapping.disabled_values for v in values)
    return person


def _paged(connection: ldap3.Connection, base: str, search_filter: str, attributes: list[str],
           page_size: int) -> Iterator[dict]:
    results = connection.extend.standard.paged_search(base, search_filter, search_scope=ldap3.SUBTREE,
                                                      paged_size=page_size, generator=True, attributes=attributes)
    for item in results:
        if item.get("type") == "searchResEntry":
            yield item
    if connection.result.get("result", 0) not in (0, 32):  # success; no such object: an empty base
        raise DirectoryUnreachable(f"The search in {base!r} with {search_filter} failed: "
                                   f"{connection.result.get('description')} {connection.result.get('message', '')}"
                                   .strip())


def _walk(members: dict[str, set[str]], group: str, nested: bool) -> set[str]:
    """Every member DN of ``group``, through nested groups when ``nested`` (each group visited once)."""
    found: set[str] = set()
    seen, stack = {group}, [group]
    while stack:
        for member in members.get(stack.pop(), ()):
            found.add(member)
            if nested and member in members and member not in seen:
                seen.add(member)
                stack.append(member)
    return found


def in_chain_filter(settings: DirectorySettings, group_dn: str) -> str:
    """People in ``group_dn`` at any depth of nesting, by Active Directory's LDAP_MATCHING_RULE_IN_CHAIN."""
    return f"(&{settings.user_filter}(memberOf:{IN_CHAIN_RULE}:={escape_filter_chars(group_dn)}))"


def read_directory(settings: DirectorySettings, mapping: Mapping) -> list[DirectoryPerson]:
    """Everyone the configured filter matches under the base, with their mapped groups; DirectoryUnreachable."""
    attributes = [settings.login_attribute, settings.id_attribute, *mapping.attributes()]
    with service_connection(settings) as connection:
        people = [person for person in (person_from_entry(item, settings, mapping) for item in _paged(
            connection, settings.base_dn, settings.user_filter, attributes, mapping.page_size)) if person]
        wanted = mapping.group_dns
        if not wanted:
            return people
        if mapping.nested == "in_chain":
            by_subject = {person.subject: person for person in people}
            groups_of: dict[str, set[str]] = {}
            for group in sorted(wanted):
                for item in _paged(connection, settings.base_dn, in_chain_filter(settings, group),
                                   [settings.id_attribute], mapping.page_size):
                    found = person_from_entry(item, settings, mapping)
                    if found is not None and found.subject in by_subject:
                        groups_of.setdefault(found.subject, set()).add(group)
            for person in people:
                person.groups = frozenset(groups_of.get(person.subject, ()))
            return people
        members: dict[str, set[str]] = {}
        for item in _paged(connection, mapping.groups_base or settings.base_dn, mapping.groups_filter,
                           [mapping.member_attribute], mapping.page_size):
            values = {name.lower(): v for name, v in item.get("attributes", {}).items()}
            listed = values.get(mapping.member_attribute.lower()) or []
            members[normal_dn(item["dn"])] = {normal_dn(str(m)) for m in listed}
    groups_of = {}
    for group in wanted:
        for member in _walk(members, group, mapping.nested == "walk"):
            groups_of.setdefault(member, set()).add(group)
    for person in people:
        person.groups = frozenset(groups_of.get(normal_dn(person.dn), ()))
    return people
