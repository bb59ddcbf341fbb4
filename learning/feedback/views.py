from learning.feedback import bp  # noqa: F401
