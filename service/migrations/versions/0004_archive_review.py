"""archive review (issue 14): archive batches, their items and the decisions of 初审, 复核, 审核

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive_batches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('catalog_blob_id', sa.String(length=36), nullable=True),
    sa.Column('catalog_name', sa.Text(), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('archive_batches', schema=None) as batch_op:
        batch_op.create_index('ix_archive_batches_owner_id', ['owner_id'], unique=False)
        batch_op.create_index('ix_archive_batches_status', ['status'], unique=False)
        batch_op.create_index('ix_archive_batches_job_id', ['job_id'], unique=False)
    op.create_table('archive_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('suggestion', sa.Text(), nullable=False),
    sa.Column('initial', sa.Text(), nullable=False),
    sa.Column('recheck', sa.Text(), nullable=False),
    sa.Column('final', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['archive_batches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'path', name='uq_archive_item_path')
    )
    with op.batch_alter_table('archive_items', schema=None) as batch_op:
        batch_op.create_index('ix_archive_items_batch_id', ['batch_id'], unique=False)
    op.create_table('archive_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('decision', sa.String(length=24), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('access', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('bulk', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['archive_batches.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['archive_items.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('archive_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_archive_decisions_batch_id', ['batch_id'], unique=False)


def downgrade() -> None:
    op.drop_table('archive_decisions')
    op.drop_table('archive_items')
    op.drop_table('archive_batches')
