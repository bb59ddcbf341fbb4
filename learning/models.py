"""Import every feature's models so that the metadata (and Alembic) sees all tables."""

import learning.announcements.models  # noqa: F401
import learning.audit.models  # noqa: F401
import learning.auth.models  # noqa: F401
import learning.feedback.models  # noqa: F401
import learning.messaging.models  # noqa: F401
import learning.metrics.models  # noqa: F401
import learning.notifications.models  # noqa: F401
import learning.onboarding.models  # noqa: F401
import learning.org.models  # noqa: F401
import learning.pagecache  # noqa: F401  (the change counters)
import learning.phases.models  # noqa: F401
import learning.scheduler.models  # noqa: F401
import learning.settings.models  # noqa: F401
import learning.surveys.models  # noqa: F401
import learning.training.models  # noqa: F401
import learning.transparency.models  # noqa: F401
