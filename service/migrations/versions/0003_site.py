"""site inspection (issue 14, 保密检查): targets with schedules, runs with their run file and
encrypted report

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_targets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.Column('schedule', sa.String(length=16), nullable=False),
    sa.Column('at_time', sa.String(length=5), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('next_run_at', sa.Float(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_targets_next_run_at'), ['next_run_at'], unique=False)
    op.create_table('site_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('target_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('since_run_id', sa.String(length=36), nullable=True),
    sa.Column('progress', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('report_enc', sa.LargeBinary(), nullable=True),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=False),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=True),
    sa.Column('finished_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['site_targets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('site_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_runs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_runs_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('site_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_runs_target_id'))
        batch_op.drop_index(batch_op.f('ix_site_runs_status'))
    op.drop_table('site_runs')
    with op.batch_alter_table('site_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_targets_next_run_at'))
    op.drop_table('site_targets')
