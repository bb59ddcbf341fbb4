"""surveys: questionnaires, waves, and participation and responses kept apart (no link between them)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('intro_en', sa.Text(), nullable=True),
    sa.Column('instrument', sa.String(length=20), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('audience_values', sa.JSON(), nullable=False),
    sa.Column('min_responses', sa.Integer(), nullable=False),
    sa.Column('min_comments', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_survey_created_by_id_user')),
    sa.ForeignKeyConstraint(['phase_id'], ['rollout_phase.id'], name=op.f('fk_survey_phase_id_rollout_phase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_phase_id'), ['phase_id'], unique=False)

    op.create_table('survey_section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                            name=op.f('fk_survey_section_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_section'))
    )
    with op.batch_alter_table('survey_section', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_section_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archived_rows', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                            name=op.f('fk_survey_wave_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_wave')),
    sa.UniqueConstraint('survey_id', 'number', name=op.f('uq_survey_wave_survey_id_number'))
    )
    op.create_table('survey_participation',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                            name=op.f('fk_survey_participation_survey_id_survey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                            name=op.f('fk_survey_participation_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['survey_wave.id'],
                            name=op.f('fk_survey_participation_wave_id_survey_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'wave_id', 'user_id', name='pk_survey_participation'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_participation', schema=None) as batch_op:
        batch_op.create_index('ix_survey_participation_user_id', ['user_id'], unique=False)

    op.create_table('survey_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('options_en', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('construct', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['section_id'], ['survey_section.id'],
                            name=op.f('fk_survey_question_section_id_survey_section'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                            name=op.f('fk_survey_question_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question'))
    )
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_question_section_id'), ['section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_question_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_survey_response_department_id_department')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                            name=op.f('fk_survey_response_survey_id_survey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_survey_response_team_id_team')),
    sa.ForeignKeyConstraint(['wave_id'], ['survey_wave.id'],
                            name=op.f('fk_survey_response_wave_id_survey_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_survey_id_wave_id', ['survey_id', 'wave_id'], unique=False)

    op.create_table('survey_answer',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'],
                            name=op.f('fk_survey_answer_question_id_survey_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'],
                            name=op.f('fk_survey_answer_response_id_survey_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name='pk_survey_answer'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answer_question_id', ['question_id'], unique=False)

    op.create_table('survey_named_response',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'],
                            name=op.f('fk_survey_named_response_response_id_survey_response'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                            name=op.f('fk_survey_named_response_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', name=op.f('pk_survey_named_response'))
    )
    with op.batch_alter_table('survey_named_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_named_response_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_named_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_named_response_user_id'))

    op.drop_table('survey_named_response')
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answer_question_id')

    op.drop_table('survey_answer')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_survey_id_wave_id')

    op.drop_table('survey_response')
    with op.batch_alter_table('survey_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_question_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_question_section_id'))

    op.drop_table('survey_question')
    with op.batch_alter_table('survey_participation', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_participation_user_id')

    op.drop_table('survey_participation')
    op.drop_table('survey_wave')
    with op.batch_alter_table('survey_section', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_section_survey_id'))

    op.drop_table('survey_section')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_phase_id'))

    op.drop_table('survey')
