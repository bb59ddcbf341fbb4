"""a general feedback channel: posts that belong to no rollout phase (feedback_post.phase_id may be NULL)

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_post', schema=None) as batch_op:
        batch_op.alter_column('phase_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Posts of the general channel have no phase to go back to: they are removed with their comments,
    # votes, followers and history (ON DELETE CASCADE where the tables declare it; else explicitly).
    bind = op.get_bind()
    general = "SELECT id FROM feedback_post WHERE phase_id IS NULL"
    for table in ('feedback_comment', 'feedback_vote', 'feedback_subscription', 'feedback_status_change'):
        bind.execute(sa.text(f"DELETE FROM {table} WHERE post_id IN ({general})"))
    bind.execute(sa.text("DELETE FROM feedback_post WHERE phase_id IS NULL"))
    with op.batch_alter_table('feedback_post', schema=None) as batch_op:
        batch_op.alter_column('phase_id', existing_type=sa.Integer(), nullable=False)
