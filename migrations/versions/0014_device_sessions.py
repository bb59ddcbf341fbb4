"""signed-in devices (per-device sessions that sign-out deletes)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'device_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('browser', sa.String(length=40), nullable=True),
        sa.Column('system', sa.String(length=40), nullable=True),
        sa.Column('signed_in_on', sa.Date(), nullable=False),
        sa.Column('last_seen_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_device_session_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_device_session')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_device_session_token_hash')),
    )
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_session_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_session_last_seen_on'), ['last_seen_on'], unique=False)


def downgrade():
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_session_last_seen_on'))
        batch_op.drop_index(batch_op.f('ix_device_session_user_id'))
    op.drop_table('device_session')
