"""The built-in reminder kinds and calendar sources (training, announcements, feedback, phases).

They live here because they were written with the reminders; a feature's own kinds go into
``learning/<feature>/reminders.py``, which is found automatically.
"""

from learning.messaging.kinds import announcements, feedback, training  # noqa: F401
from learning.notifications import sources  # noqa: F401  (calendar: assignments and phase go-lives)
