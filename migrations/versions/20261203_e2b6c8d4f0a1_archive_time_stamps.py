"""archive time stamps: earlier final PDFs stay authentic, when each file's time runs out

Revision ID: e2b6c8d4f0a1
Revises: a7c3e5f9b1d2
Create Date: 2026-12-03 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'e2b6c8d4f0a1'
down_revision = 'a7c3e5f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'earlier_finals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('earlier_finals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_earlier_finals_document_id'), ['document_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_earlier_finals_sha256'), ['sha256'], unique=False)
    op.create_table(
        'archive_clocks',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('final_sha256', sa.String(length=64), nullable=False),
        sa.Column('timestamp_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id'),
    )
    with op.batch_alter_table('archive_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_clocks_timestamp_expires_at'),
                              ['timestamp_expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('archive_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_clocks_timestamp_expires_at'))
    op.drop_table('archive_clocks')
    with op.batch_alter_table('earlier_finals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_earlier_finals_sha256'))
        batch_op.drop_index(batch_op.f('ix_earlier_finals_document_id'))
    op.drop_table('earlier_finals')
