"""the language a signer picked on the signing page

Revision ID: e4a7b2c8d1f6
Revises: c9d2e5f1a3b4
Create Date: 2026-12-03 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7b2c8d1f6'
down_revision = 'c9d2e5f1a3b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('language')
