"""announcements

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'announcement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('phase_id', sa.Integer(), nullable=True),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('audience_values', sa.JSON(), nullable=False),
        sa.Column('publish_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('pinned', sa.Boolean(), nullable=False),
        sa.Column('requires_ack', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('substantive_version', sa.Integer(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['phase_id'], ['rollout_phase.id'],
                                name=op.f('fk_announcement_phase_id_rollout_phase')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_announcement_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement')),
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcement_publish_at'), ['publish_at'], unique=False)

    op.create_table(
        'announcement_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('announcement_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('substantive', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'],
                                name=op.f('fk_announcement_version_announcement_id_announcement'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'],
                                name=op.f('fk_announcement_version_changed_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_version')),
        sa.UniqueConstraint('announcement_id', 'version',
                            name=op.f('uq_announcement_version_announcement_id_version')),
    )

    op.create_table(
        'announcement_acknowledgement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('announcement_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'],
                                name=op.f('fk_announcement_acknowledgement_announcement_id_announcement'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_announcement_acknowledgement_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_acknowledgement')),
        sa.UniqueConstraint('announcement_id', 'user_id',
                            name=op.f('uq_announcement_acknowledgement_announcement_id_user_id')),
    )
    with op.batch_alter_table('announcement_acknowledgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_acknowledgement_user_id'), ['user_id'], unique=False)

    op.create_table(
        'announcement_feed_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_announcement_feed_token_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_feed_token')),
        sa.UniqueConstraint('token', name=op.f('uq_announcement_feed_token_token')),
        sa.UniqueConstraint('user_id', name=op.f('uq_announcement_feed_token_user_id')),
    )


def downgrade():
    op.drop_table('announcement_feed_token')
    with op.batch_alter_table('announcement_acknowledgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_acknowledgement_user_id'))
    op.drop_table('announcement_acknowledgement')
    op.drop_table('announcement_version')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_publish_at'))
        batch_op.drop_index(batch_op.f('ix_announcement_phase_id'))
    op.drop_table('announcement')
