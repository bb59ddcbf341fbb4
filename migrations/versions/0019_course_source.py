"""courses managed as files or uploaded as a zip; media files of uploaded courses

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='files', nullable=False))
    op.create_table('course_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_file_course_id_course'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_file')),
    sa.UniqueConstraint('course_id', 'path', name=op.f('uq_course_file_course_id_path'))
    )
    with op.batch_alter_table('course_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_file_course_id'), ['course_id'], unique=False)


def downgrade():
    with op.batch_alter_table('course_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_file_course_id'))
    op.drop_table('course_file')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('source')
