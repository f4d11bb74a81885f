"""bulk batches: a spreadsheet's rows created and sent by jobs, the mapping kept per template

Revision ID: c4e6a8b0d2f3
Revises: b2d4f6a8c0e1
Create Date: 2026-12-03 16:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e6a8b0d2f3'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bulk_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('source_filename', sa.String(length=255), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('skip_invalid', sa.Boolean(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('invalid_count', sa.Integer(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('progressed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['template_id'], ['document_templates.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('bulk_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_batches_created_by_id'), ['created_by_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_batches_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_batches_template_id'), ['template_id'],
                              unique=False)

    op.create_table(
        'bulk_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('counterparty_id', sa.Integer(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['bulk_batches.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['counterparty_id'], ['counterparties.id'],
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('batch_id', 'row_number', name='uq_bulk_rows_batch_row'),
    )
    with op.batch_alter_table('bulk_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_rows_status'), ['status'], unique=False)

    op.create_table(
        'bulk_mappings',
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['template_id'], ['document_templates.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('template_id'),
    )


def downgrade():
    op.drop_table('bulk_mappings')
    with op.batch_alter_table('bulk_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_rows_status'))
    op.drop_table('bulk_rows')
    with op.batch_alter_table('bulk_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_batches_template_id'))
        batch_op.drop_index(batch_op.f('ix_bulk_batches_status'))
        batch_op.drop_index(batch_op.f('ix_bulk_batches_created_by_id'))
    op.drop_table('bulk_batches')
