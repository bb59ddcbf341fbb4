"""The test suite.

"Today" in a test is the organisation's today, as ``local_today()`` in the platform (Europe/Berlin):
without this, ``date.today()`` in a test and the platform's today differ between midnight in Berlin
and midnight UTC. It is set here, before any test module computes a date; subprocesses inherit it.
"""

import os
import time

os.environ["TZ"] = "Europe/Berlin"
time.tzset()
