"""quiz attempt rules per course: attempts, pause, when answers are shown; extra attempts per assignment

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_attempts', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('attempt_pause_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('show_answers', sa.String(length=20), server_default='after_passing',
                                      nullable=False))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('extra_attempts')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('show_answers')
        batch_op.drop_column('attempt_pause_minutes')
        batch_op.drop_column('max_attempts')
