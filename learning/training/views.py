"""Learner pages: catalogue, course, lesson, quiz, certificate, my learning."""

from learning.training import bp  # noqa: F401
