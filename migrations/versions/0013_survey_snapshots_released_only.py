"""survey figures in the metric snapshots only from released rounds

Revision ID: 0013
Revises: 0012

Until now the daily snapshots took survey figures from rounds that were still open, so the
stored history of each unit changed day by day with the answers that came in: comparing two
days could give a single answer away. Those rows are deleted; the nightly job (and
``flask metrics snapshot --backfill``) computes them again, from closed rounds only.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    snapshot = sa.table('metric_snapshot', sa.column('metric', sa.String))
    op.execute(snapshot.delete().where(snapshot.c.metric.like('surveys.%')))


def downgrade():
    pass  # the deleted figures are not restored: they should never have been stored
