"""public links: the document values every submission gets (items, VAT, currency, place)

Revision ID: c9e1f3a5b7d9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9e1f3a5b7d9'
down_revision = 'b8d0f2a4c6e8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('public_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_values', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table('public_links', schema=None) as batch_op:
        batch_op.alter_column('document_values', server_default=None)


def downgrade():
    with op.batch_alter_table('public_links', schema=None) as batch_op:
        batch_op.drop_column('document_values')
