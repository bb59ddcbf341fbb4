from flask import Blueprint

bp = Blueprint("messaging", __name__, url_prefix="/admin/mail")
