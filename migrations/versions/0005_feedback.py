"""feedback channels: posts, votes, comments, status history, subscriptions

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feedback_post',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phase_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=150), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('anonymous', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('hidden_reason', sa.String(length=1000), nullable=True),
        sa.Column('vote_count', sa.Integer(), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['phase_id'], ['rollout_phase.id'],
                                name=op.f('fk_feedback_post_phase_id_rollout_phase')),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_feedback_post_author_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_post')),
    )
    with op.batch_alter_table('feedback_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_post_phase_id'), ['phase_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_post_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_post_created_on'), ['created_on'], unique=False)

    op.create_table(
        'feedback_vote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['feedback_post.id'], name=op.f('fk_feedback_vote_post_id_feedback_post'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_feedback_vote_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_vote')),
        sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_feedback_vote_post_id_user_id')),
    )
    with op.batch_alter_table('feedback_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_vote_user_id'), ['user_id'], unique=False)

    op.create_table(
        'feedback_comment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('official', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['feedback_post.id'],
                                name=op.f('fk_feedback_comment_post_id_feedback_post'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_feedback_comment_author_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_comment')),
    )
    with op.batch_alter_table('feedback_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_comment_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_comment_author_id'), ['author_id'], unique=False)

    op.create_table(
        'feedback_status_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=20), nullable=False),
        sa.Column('to_status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['post_id'], ['feedback_post.id'],
                                name=op.f('fk_feedback_status_change_post_id_feedback_post'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'],
                                name=op.f('fk_feedback_status_change_changed_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_status_change')),
    )
    with op.batch_alter_table('feedback_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_status_change_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_status_change_notified_at'), ['notified_at'], unique=False)

    op.create_table(
        'feedback_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['feedback_post.id'],
                                name=op.f('fk_feedback_subscription_post_id_feedback_post'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_feedback_subscription_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_subscription')),
        sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_feedback_subscription_post_id_user_id')),
    )
    with op.batch_alter_table('feedback_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_subscription_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_subscription_user_id'))
    op.drop_table('feedback_subscription')
    with op.batch_alter_table('feedback_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_status_change_notified_at'))
        batch_op.drop_index(batch_op.f('ix_feedback_status_change_post_id'))
    op.drop_table('feedback_status_change')
    with op.batch_alter_table('feedback_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_comment_author_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_comment_post_id'))
    op.drop_table('feedback_comment')
    with op.batch_alter_table('feedback_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_vote_user_id'))
    op.drop_table('feedback_vote')
    with op.batch_alter_table('feedback_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_post_created_on'))
        batch_op.drop_index(batch_op.f('ix_feedback_post_status'))
        batch_op.drop_index(batch_op.f('ix_feedback_post_author_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_post_phase_id'))
    op.drop_table('feedback_post')
