"""review that scales (issue 16): finding groups and needs_verdict, carried-over and batch
verdicts, the fingerprint allowlist

Revision ID: 0006_review
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_review'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding_allowlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=128), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.Column('revoked_at', sa.Float(), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finding_allowlist', schema=None) as batch_op:
        batch_op.create_index('ix_finding_allowlist_fingerprint', ['fingerprint'], unique=False)
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.String(length=24), nullable=False, server_default=''))
        # rows from before: every finding needed a verdict (fail closed)
        batch_op.add_column(sa.Column('needs_verdict', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('allow_entry_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('carried_from_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('batch', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.drop_column('batch')
        batch_op.drop_column('carried_from_version')
        batch_op.drop_column('carried_from_id')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_column('allow_entry_id')
        batch_op.drop_column('needs_verdict')
        batch_op.drop_column('group_id')
    with op.batch_alter_table('finding_allowlist', schema=None) as batch_op:
        batch_op.drop_index('ix_finding_allowlist_fingerprint')
    op.drop_table('finding_allowlist')
