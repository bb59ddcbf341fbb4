"""onboarding journeys: versioned templates with tasks, journeys per new hire with their tasks

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journey_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('it_contact_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_journey_template_department_id_department')),
    sa.ForeignKeyConstraint(['it_contact_id'], ['user.id'], name=op.f('fk_journey_template_it_contact_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_template'))
    )
    with op.batch_alter_table('journey_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_template_department_id'), ['department_id'], unique=False)

    op.create_table('journey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('new_hire_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('buddy_id', sa.Integer(), nullable=True),
    sa.Column('it_contact_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buddy_id'], ['user.id'], name=op.f('fk_journey_buddy_id_user')),
    sa.ForeignKeyConstraint(['it_contact_id'], ['user.id'], name=op.f('fk_journey_it_contact_id_user')),
    sa.ForeignKeyConstraint(['new_hire_id'], ['user.id'], name=op.f('fk_journey_new_hire_id_user')),
    sa.ForeignKeyConstraint(['template_id'], ['journey_template.id'],
                            name=op.f('fk_journey_template_id_journey_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey')),
    sa.UniqueConstraint('new_hire_id', name=op.f('uq_journey_new_hire_id'))
    )
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_buddy_id'), ['buddy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journey_it_contact_id'), ['it_contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journey_template_id'), ['template_id'], unique=False)

    op.create_table('journey_template_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'],
                            name=op.f('fk_journey_template_task_course_id_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['journey_template.id'],
                            name=op.f('fk_journey_template_task_template_id_journey_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_template_task')),
    sa.UniqueConstraint('template_id', 'version', 'key', name=op.f('uq_journey_template_task_template_id_version_key'))
    )
    with op.batch_alter_table('journey_template_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_template_task_template_id'), ['template_id'], unique=False)

    op.create_table('journey_template_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                            name=op.f('fk_journey_template_version_created_by_id_user')),
    sa.ForeignKeyConstraint(['template_id'], ['journey_template.id'],
                            name=op.f('fk_journey_template_version_template_id_journey_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_template_version')),
    sa.UniqueConstraint('template_id', 'version', name=op.f('uq_journey_template_version_template_id_version'))
    )
    op.create_table('journey_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=32), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'],
                            name=op.f('fk_journey_task_course_id_course'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_journey_task_done_by_id_user')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'],
                            name=op.f('fk_journey_task_journey_id_journey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_task'))
    )
    with op.batch_alter_table('journey_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_task_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_journey_task_journey_id'), ['journey_id'], unique=False)


def downgrade():
    with op.batch_alter_table('journey_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_task_journey_id'))
        batch_op.drop_index(batch_op.f('ix_journey_task_due_on'))

    op.drop_table('journey_task')
    op.drop_table('journey_template_version')
    with op.batch_alter_table('journey_template_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_template_task_template_id'))

    op.drop_table('journey_template_task')
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_template_id'))
        batch_op.drop_index(batch_op.f('ix_journey_it_contact_id'))
        batch_op.drop_index(batch_op.f('ix_journey_buddy_id'))

    op.drop_table('journey')
    with op.batch_alter_table('journey_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_template_department_id'))

    op.drop_table('journey_template')
