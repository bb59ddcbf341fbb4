"""Import people from a CSV file: read and check everything first, then apply it in one unit of work.

``flask users import`` and the admin upload form both call :func:`plan_import` (read, validate,
work out what would change; writes nothing) and :func:`apply_import` (writes the plan, flushed; the
caller's unit of work commits once). Problems carry lazily translated messages, so the upload page
shows them in the reader's language and the CLI in the default one. The column format is documented
in docs/csv-import.md.

- ``read``: decoding, the header, each line's cells checked on their own (no database);
- ``plan``: the lines checked against each other and the platform's people, and what would change;
- ``apply``: writing a checked plan.
"""

from learning.org.importer.apply import ImportFailed, apply_import
from learning.org.importer.plan import ImportPlan, plan_import
from learning.org.importer.read import ImportProblem, column_title

__all__ = ["ImportFailed", "ImportPlan", "ImportProblem", "apply_import", "column_title", "plan_import"]
