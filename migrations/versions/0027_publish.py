"""earlier completions: certificates from before a substantive course change stay verifiable

Revision ID: 0027
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('earlier_completion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verification_code', sa.String(length=20), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_by_version', sa.Integer(), nullable=True),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_earlier_completion_course_id_course')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_earlier_completion_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earlier_completion')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_earlier_completion_verification_code'))
    )
    with op.batch_alter_table('earlier_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earlier_completion_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_earlier_completion_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('earlier_completion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_earlier_completion_user_id'))
        batch_op.drop_index(batch_op.f('ix_earlier_completion_course_id'))
    op.drop_table('earlier_completion')
