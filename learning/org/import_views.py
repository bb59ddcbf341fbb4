"""Upload form for the CSV import (same validation as ``flask users import``)."""

from flask import render_template

from learning.org import bp
from learning.org.forms import ImportForm
from learning.org.models import Role
from learning.security import allow


@bp.route("/people/import", methods=["GET", "POST"])
@allow(Role.ADMIN)
def import_people():
    form = ImportForm()
    return render_template("org/import.html", form=form, result=None)
