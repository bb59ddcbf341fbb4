from flask import Blueprint

bp = Blueprint("scheduler", __name__, url_prefix="/admin/scheduler")
