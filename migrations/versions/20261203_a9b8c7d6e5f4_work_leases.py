"""work leases: sealing claimed with a lease, its retries due in the row

Revision ID: a9b8c7d6e5f4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-03 00:50:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9b8c7d6e5f4'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_next_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seal_lease_until', sa.DateTime(timezone=True),
                                      nullable=True))
    # Documents that failed before were retried by the sweep for ever: their next try is due
    # now, in the new way (a document never tried yet is picked up without a due time).
    documents = sa.table('documents', sa.column('stage', sa.String),
                         sa.column('final_sha256', sa.String),
                         sa.column('seal_attempts', sa.Integer),
                         sa.column('seal_next_at', sa.DateTime(timezone=True)))
    op.execute(documents.update()
               .where(documents.c.stage == 'completed', documents.c.final_sha256.is_(None),
                      documents.c.seal_attempts > 0)
               .values(seal_next_at=datetime.now(UTC)))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('seal_lease_until')
        batch_op.drop_column('seal_next_at')
