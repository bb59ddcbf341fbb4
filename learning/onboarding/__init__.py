from flask import Blueprint

bp = Blueprint("onboarding", __name__, url_prefix="/onboarding")
