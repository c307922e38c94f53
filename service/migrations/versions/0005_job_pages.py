"""job pages (issue 11): pages OCR'd so far / pages to OCR of a running scan, for the job status

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pages_done', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pages_total', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('pages_total')
        batch_op.drop_column('pages_done')
