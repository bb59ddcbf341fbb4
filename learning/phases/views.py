from learning.phases import bp  # noqa: F401
