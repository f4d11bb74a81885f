"""what was removed from an uploaded PDF (active content)

Revision ID: b7e4c1d9a2f0
Revises: 8f1493584b52
Create Date: 2026-12-02 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4c1d9a2f0'
down_revision = '8f1493584b52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_content', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('removed_content')
