"""Import every feature's models so that the metadata (and Alembic) sees all tables."""

from learning.announcements.models import Acknowledgement, Announcement, AnnouncementVersion, FeedToken  # noqa: F401
from learning.audit.models import AuditEntry  # noqa: F401
from learning.feedback.models import (  # noqa: F401
    FeedbackComment,
    FeedbackPost,
    FeedbackStatusChange,
    FeedbackSubscription,
    FeedbackVote,
)
from learning.messaging.models import CapturedMail  # noqa: F401
from learning.org.models import Department, Team, User, UserRole  # noqa: F401
from learning.phases.models import PhaseFaq, RolloutPhase, phase_contact  # noqa: F401
from learning.training.models import (  # noqa: F401
    Answer,
    Assignment,
    AssignmentRule,
    Course,
    CourseCompletion,
    Lesson,
    LessonCompletion,
    Question,
    QuizAttempt,
)
