from learning.announcements import bp  # noqa: F401
