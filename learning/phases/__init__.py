from flask import Blueprint

bp = Blueprint("phases", __name__, url_prefix="/phases")
