"""Moved to ``learning.mail`` (shared infrastructure). Kept only for ``learning/onboarding``, whose
imports another branch rewrites at the same time; delete this module when they import ``learning.mail``."""

from learning.mail import MailError, absolute_url, send_mail

__all__ = ["MailError", "absolute_url", "send_mail"]
