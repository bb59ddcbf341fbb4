"""review notices: who asked for the review of a course draft, and when

Revision ID: 0031
Revises: 0030
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_course_draft_review_requested_by_id_user'), 'user',
                                    ['review_requested_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('course_draft', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_course_draft_review_requested_by_id_user'), type_='foreignkey')
        batch_op.drop_column('review_requested_at')
        batch_op.drop_column('review_requested_by_id')
