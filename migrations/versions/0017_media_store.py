"""media store: uploaded images, PDF documents and videos, and where they are used

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('extension', sa.String(length=5), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('alt_text', sa.String(length=500), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('captions_sha256', sa.String(length=64), nullable=True),
        sa.Column('captions_language', sa.String(length=5), nullable=True),
        sa.Column('transcript', sa.Text(), nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_media_item_course_id_course')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_media_item_uploaded_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_item')),
    )
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_item_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_item_captions_sha256'), ['captions_sha256'], unique=False)
    op.create_table(
        'media_usage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('media_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['media_id'], ['media_item.id'], name=op.f('fk_media_usage_media_id_media_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_usage')),
        sa.UniqueConstraint('media_id', 'kind', 'ref_id', name=op.f('uq_media_usage_media_id_kind_ref_id')),
    )
    with op.batch_alter_table('media_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_usage_media_id'), ['media_id'], unique=False)
        batch_op.create_index('ix_media_usage_kind_ref_id', ['kind', 'ref_id'], unique=False)


def downgrade():
    with op.batch_alter_table('media_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_media_usage_kind_ref_id')
        batch_op.drop_index(batch_op.f('ix_media_usage_media_id'))
    op.drop_table('media_usage')
    with op.batch_alter_table('media_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_item_captions_sha256'))
        batch_op.drop_index(batch_op.f('ix_media_item_course_id'))
        batch_op.drop_index(batch_op.f('ix_media_item_sha256'))
    op.drop_table('media_item')
