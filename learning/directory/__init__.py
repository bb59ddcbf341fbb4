"""Sign-in with the organisation's directory (LDAP / Active Directory) and the identities it gives people.

``ldap.py`` talks to the directory (connection, TLS, search, bind) and is what directory sync uses
too; ``models.py`` holds the identities every outside sign-in (LDAP, later OpenID Connect) matches
people by, and the links an administrator still has to confirm.
"""

from flask import Blueprint

bp = Blueprint("directory", __name__, url_prefix="/admin/directory")
