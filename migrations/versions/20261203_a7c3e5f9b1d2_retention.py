"""retention: per-company periods, legal hold, purged files and masked contacts

Revision ID: a7c3e5f9b1d2
Revises: d1f3a5c7e9b2
Create Date: 2026-12-03 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f9b1d2'
down_revision = 'd1f3a5c7e9b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_files_days', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('retention_mask_days', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('legal_hold_reason', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('legal_hold_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('files_purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('contacts_masked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('masked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('masked_at')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('contacts_masked_at')
        batch_op.drop_column('files_purged_at')
        batch_op.drop_column('legal_hold_at')
        batch_op.drop_column('legal_hold_reason')
        batch_op.drop_column('legal_hold')
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('retention_mask_days')
        batch_op.drop_column('retention_files_days')
