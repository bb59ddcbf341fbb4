"""A bare Flask hello world: the yardstick that bench/load.py serves with the platform's gunicorn settings.

    .venv/bin/gunicorn -w 5 -b 127.0.0.1:8001 bench.hello:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
