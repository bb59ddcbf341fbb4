"""directory sync: each synced person's lifecycle state (missing since, deactivated by the sync)

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directory_sync_state',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('missing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missing_reason', sa.String(length=20), nullable=False),
    sa.Column('deactivated_by_sync', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_directory_sync_state_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_directory_sync_state'))
    )


def downgrade():
    op.drop_table('directory_sync_state')
