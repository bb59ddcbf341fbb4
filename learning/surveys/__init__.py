from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
