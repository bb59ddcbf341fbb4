"""certificates of attendance: an event may issue them; one per person and event, verifiable by code

Revision ID: 0030
Revises: 0028
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues_certificate', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('event_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verification_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_certificate_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_event_certificate_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_certificate')),
    sa.UniqueConstraint('user_id', 'event_id', name=op.f('uq_event_certificate_user_id_event_id')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_event_certificate_verification_code'))
    )
    with op.batch_alter_table('event_certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_certificate_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_certificate_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('event_certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_certificate_user_id'))
        batch_op.drop_index(batch_op.f('ix_event_certificate_event_id'))
    op.drop_table('event_certificate')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('issues_certificate')
