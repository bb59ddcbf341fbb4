"""metric snapshots

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'metric_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=60), nullable=False),
        sa.Column('phase_key', sa.Integer(), nullable=False),
        sa.Column('unit_kind', sa.String(length=10), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Double(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_snapshot')),
        sa.UniqueConstraint('day', 'metric', 'phase_key', 'unit_kind', 'unit_id',
                            name=op.f('uq_metric_snapshot_day_metric_phase_key_unit_kind_unit_id')),
    )
    with op.batch_alter_table('metric_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_snapshot_day'), ['day'], unique=False)
        batch_op.create_index('ix_metric_snapshot_series', ['metric', 'phase_key', 'unit_kind', 'unit_id', 'day'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('metric_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_snapshot_series')
        batch_op.drop_index(batch_op.f('ix_metric_snapshot_day'))
    op.drop_table('metric_snapshot')
