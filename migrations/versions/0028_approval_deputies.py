"""approval deputies: a manager names people who approve or decline the team's booking requests

Revision ID: 0028
Revises: 0027
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_approval_deputy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['user.id'], name=op.f('fk_event_approval_deputy_deputy_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['user.id'], name=op.f('fk_event_approval_deputy_manager_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_approval_deputy')),
    sa.UniqueConstraint('manager_id', 'deputy_id', name=op.f('uq_event_approval_deputy_manager_id_deputy_id'))
    )
    with op.batch_alter_table('event_approval_deputy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_approval_deputy_deputy_id'), ['deputy_id'], unique=False)


def downgrade():
    with op.batch_alter_table('event_approval_deputy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_approval_deputy_deputy_id'))
    op.drop_table('event_approval_deputy')
