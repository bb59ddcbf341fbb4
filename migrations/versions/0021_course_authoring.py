"""course authoring in the browser: drafts, editors, reviews, published versions; quiz pools and answer feedback

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('revisions', sa.JSON(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('review_state', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_draft_course_id_course')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_course_draft_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_course_draft_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_draft')),
    sa.UniqueConstraint('course_id', name=op.f('uq_course_draft_course_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_course_draft_slug'))
    )
    op.create_table('course_editor',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['course_draft.id'], name=op.f('fk_course_editor_draft_id_course_draft'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_course_editor_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', 'user_id', name=op.f('pk_course_editor'))
    )
    with op.batch_alter_table('course_editor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_editor_user_id'), ['user_id'], unique=False)

    op.create_table('course_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('substantive', sa.Boolean(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_course_version_approved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['draft_id'], ['course_draft.id'], name=op.f('fk_course_version_draft_id_course_draft'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_course_version_published_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_version')),
    sa.UniqueConstraint('draft_id', 'number', name=op.f('uq_course_version_draft_id_number'))
    )
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_version_draft_id'), ['draft_id'], unique=False)

    op.create_table('draft_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_draft_review_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['draft_id'], ['course_draft.id'], name=op.f('fk_draft_review_draft_id_course_draft'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_review'))
    )
    with op.batch_alter_table('draft_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_review_draft_id'), ['draft_id'], unique=False)

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('feedback_en', sa.Text(), nullable=True))

    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiz_draw', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('quiz_draw')

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('feedback_en')
        batch_op.drop_column('feedback')

    with op.batch_alter_table('draft_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_review_draft_id'))

    op.drop_table('draft_review')
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_version_draft_id'))

    op.drop_table('course_version')
    with op.batch_alter_table('course_editor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_editor_user_id'))

    op.drop_table('course_editor')
    op.drop_table('course_draft')
