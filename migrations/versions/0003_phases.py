"""phases: what changes for whom, contact persons and FAQ of a rollout phase

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rollout_phase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.Text(), nullable=False, server_default=''))

    op.create_table(
        'phase_contact',
        sa.Column('phase_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['phase_id'], ['rollout_phase.id'],
                                name=op.f('fk_phase_contact_phase_id_rollout_phase'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_phase_contact_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('phase_id', 'user_id', name=op.f('pk_phase_contact')),
    )
    op.create_table(
        'phase_faq',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phase_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('question', sa.String(length=300), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['phase_id'], ['rollout_phase.id'],
                                name=op.f('fk_phase_faq_phase_id_rollout_phase'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phase_faq')),
    )
    with op.batch_alter_table('phase_faq', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phase_faq_phase_id'), ['phase_id'], unique=False)


def downgrade():
    with op.batch_alter_table('phase_faq', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phase_faq_phase_id'))

    op.drop_table('phase_faq')
    op.drop_table('phase_contact')
    with op.batch_alter_table('rollout_phase', schema=None) as batch_op:
        batch_op.drop_column('changes')
