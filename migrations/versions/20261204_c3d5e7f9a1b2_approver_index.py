"""approver index: the board asks whether anyone uses the approval step without a scan

Revision ID: c3d5e7f9a1b2
Revises: e2b6c8d4f0a1
Create Date: 2026-12-04 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d5e7f9a1b2'
down_revision = 'e2b6c8d4f0a1'
branch_labels = None
depends_on = None

IS_APPROVER = sa.text("role = 'approver'")


def upgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index('ix_parties_approvers', ['document_id'], unique=False,
                              sqlite_where=IS_APPROVER, postgresql_where=IS_APPROVER)


def downgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index('ix_parties_approvers', sqlite_where=IS_APPROVER,
                            postgresql_where=IS_APPROVER)
