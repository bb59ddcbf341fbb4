"""accessibility barrier reports

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'barrier_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('page', sa.String(length=500), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('contact', sa.String(length=254), nullable=False),
        sa.Column('reporter_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_barrier_report_reporter_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'],
                                name=op.f('fk_barrier_report_resolved_by_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_barrier_report')),
    )
    with op.batch_alter_table('barrier_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_barrier_report_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('barrier_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_barrier_report_created_at'))
    op.drop_table('barrier_report')
