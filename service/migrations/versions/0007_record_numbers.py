"""一事一审 numbers: submissions.record_no (保审〔2026〕17号) and a counter per year; submissions made
before are numbered in the order they were made

Revision ID: 0007_record_no
Revises: 0006_review
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0007_record_no'
down_revision = '0006_review'
branch_labels = None
depends_on = None

PREFIX = "保审"     # the default of BAOMI_RECORD_PREFIX (service/settings.py)
BEIJING = dt.timezone(dt.timedelta(hours=8))    # service/clock.py (a migration stays as written)


def upgrade() -> None:
    op.create_table('record_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_no', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_submissions_record_no', ['record_no'])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, created_at FROM submissions ORDER BY created_at, id")).all()
    last: dict[int, int] = {}
    for sub_id, created in rows:
        year = dt.datetime.fromtimestamp(created, BEIJING).year
        last[year] = last.get(year, 0) + 1
        conn.execute(sa.text("UPDATE submissions SET record_no = :no WHERE id = :id"),
                     {"no": f"{PREFIX}〔{year}〕{last[year]}号", "id": sub_id})
    for year, n in last.items():
        conn.execute(sa.text("INSERT INTO record_counters (year, last) VALUES (:y, :n)"), {"y": year, "n": n})


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_submissions_record_no', type_='unique')
        batch_op.drop_column('record_no')
    op.drop_table('record_counters')
