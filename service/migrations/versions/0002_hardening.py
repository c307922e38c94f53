"""hardening (issue 13): login throttling, session idle expiry, encrypted finding details,
keyed text fingerprints of versions

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_failure', sa.Float(), nullable=False),
    sa.Column('last_failure', sa.Float(), nullable=False),
    sa.Column('locked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.Float(), nullable=True))
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail_enc', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_mac', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_versions_text_mac', ['text_mac'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_index('ix_versions_text_mac')
        batch_op.drop_column('text_mac')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_column('detail_enc')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
    op.drop_table('login_throttle')
