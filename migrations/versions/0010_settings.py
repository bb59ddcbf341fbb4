"""runtime settings

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'platform_setting',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_platform_setting_updated_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_platform_setting')),
    )


def downgrade():
    op.drop_table('platform_setting')
