"""bulk batch values: place, date, currency and VAT rate for the rows that leave them empty

Revision ID: a7c9e1b3d5f7
Revises: d5f7a9c1e3b4
Create Date: 2026-12-03 17:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c9e1b3d5f7'
down_revision = 'd5f7a9c1e3b4'
branch_labels = None
depends_on = None

TABLES = ('bulk_batches', 'bulk_mappings')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('batch_values', sa.JSON(), nullable=False,
                                          server_default=sa.text("'{}'")))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('batch_values', server_default=None)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('batch_values')
