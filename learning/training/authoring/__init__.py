"""Course authoring in the browser: drafts, editors, review, versions and publishing.

A course written in the browser has one ``CourseDraft``, its authoring record, from the day it is
created: the editors named on it, the unpublished changes (a ``CourseSpec`` as a document, the same
content model that ``flask courses sync`` reads from files), the review, and every published
``CourseVersion``. Publishing writes the draft onto the course with ``sync.apply_course``, exactly as a
sync writes a folder, so learners cannot tell how a course was made. Employees never see a draft.

- ``models``: the tables; ``access``: who may create and edit; ``documents``: draft ⇄ ``CourseSpec`` and
  the optimistic lock per part (settings, each lesson, the quiz).
"""
