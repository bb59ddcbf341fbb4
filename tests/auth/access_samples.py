"""URL argument values for the access matrix: a signed-in device of the employee (not the walking browser's)."""

from __future__ import annotations


def samples(app, people) -> dict:
    from learning.auth.devices import start_device_session
    from learning.db import db
    from learning.org.models import User

    with app.test_request_context():
        employee = db.session.get(User, people["employee"].id)
        start_device_session(employee, "Firefox/133.0 (Windows NT 10.0)")
        device_id = employee.device_id
        db.session.commit()
        return {"device_id": device_id}
