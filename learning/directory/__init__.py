"""Sign-in with the organisation's directory (LDAP / Active Directory) and the identities it gives people.

``ldap.py`` talks to the directory (connection, TLS, search, bind) and is what directory sync uses
too; ``models.py`` holds the identities every outside sign-in (LDAP, later OpenID Connect) matches
people by, and the links an administrator still has to confirm.

Directory sync (the README's *Directory sync* section): ``mapping.py`` reads the mapping file, ``sync_read.py``
reads the directory, ``sync_plan.py`` plans, ``sync_apply.py`` applies, ``sync.py`` ties them
together for ``cli.py`` (``flask directory sync``), ``jobs.py`` (nightly) and ``sync_views.py``.
"""

from flask import Blueprint

bp = Blueprint("directory", __name__, url_prefix="/admin/directory")


@bp.record_once
def _read_mapping(state) -> None:
    """Directory sync's mapping file, read and checked at start: a wrong file stops with FILE:LINE: reason."""
    from learning.config import ConfigError
    from learning.directory.mapping import MappingError, load_mapping

    try:
        state.app.extensions["directory_mapping"] = load_mapping(state.app.config.get("DIRECTORY_MAPPING", ""))
    except MappingError as error:
        raise ConfigError(f"LEARNING_DIRECTORY_MAPPING: {error}") from None
