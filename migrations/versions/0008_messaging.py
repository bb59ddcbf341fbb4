"""scheduler, outbox, notifications

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('subject_key', sa.String(length=120), nullable=False),
        sa.Column('period_key', sa.String(length=60), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('mandatory', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('deferrals', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('outcome', sa.String(length=40), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbox_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('user_id', 'kind', 'subject_key', 'period_key',
                            name=op.f('uq_outbox_user_id_kind_subject_key_period_key')),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_planned_at'), ['planned_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_sent_at'), ['sent_at'], unique=False)

    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('subject_key', sa.String(length=120), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_notification_outbox_id_outbox'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('outbox_id', name=op.f('uq_notification_outbox_id')),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table(
        'notification_preference',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=10), nullable=True),
        sa.Column('muted_kinds', sa.JSON(), nullable=False),
        sa.Column('calendar_token', sa.String(length=64), nullable=True),
        sa.Column('calendar_token_created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_preference_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preference')),
        sa.UniqueConstraint('calendar_token', name=op.f('uq_notification_preference_calendar_token')),
    )

    op.create_table(
        'scheduler_lease',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=120), nullable=False),
        sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease')),
    )

    op.create_table(
        'job_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=80), nullable=False),
        sa.Column('instance', sa.String(length=120), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('result', sa.String(length=10), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_job_run_job_id'))
    op.drop_table('job_run')
    op.drop_table('scheduler_lease')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_read_at')
    op.drop_table('notification')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_planned_at'))
        batch_op.drop_index('ix_outbox_status_next_attempt_at')
    op.drop_table('outbox')
