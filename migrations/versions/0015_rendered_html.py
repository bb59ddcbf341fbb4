"""authored Markdown stored as sanitised HTML next to its source, with the renderer version

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# table: Markdown columns that get a ``<column>_html`` column
RENDERED = {
    'announcement': ['body'],
    'announcement_version': ['body'],
    'rollout_phase': ['goals', 'changes'],
    'phase_faq': ['answer'],
    'feedback_post': ['body'],
    'feedback_comment': ['body'],
    'feedback_status_change': ['reason'],
    'survey': ['intro', 'intro_en'],
    'journey_task': ['description'],
    'lesson': ['body', 'body_en'],
}


def upgrade():
    for table, sources in RENDERED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for source in sources:
                batch_op.add_column(sa.Column(f'{source}_html', sa.Text(), server_default='', nullable=False))
            batch_op.add_column(sa.Column('html_version', sa.Integer(), server_default='0', nullable=False))
    # Existing texts are rendered now with the current renderer (the same as ``flask content
    # rerender``), reading and writing only the columns above; a database without the application's
    # models loaded (plain ``alembic``) leaves them at html_version 0 for ``flask content rerender``.
    from learning.content import rendered_models, rerender

    if rendered_models():
        rerender(op.get_bind(), tables=set(RENDERED))


def downgrade():
    for table, sources in RENDERED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('html_version')
            for source in sources:
                batch_op.drop_column(f'{source}_html')
