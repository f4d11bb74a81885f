"""signing bundles: one ceremony in which the company signer signs a bulk batch's documents

Revision ID: d5f7a9c1e3b4
Revises: a7c1e3f5b9d2
Create Date: 2026-12-03 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f7a9c1e3b4'
down_revision = 'a7c1e3f5b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signing_bundles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('invitation_message_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_attempts', sa.Integer(), nullable=False),
        sa.Column('codes_sent', sa.Integer(), nullable=False),
        sa.Column('code_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('recent_code_sends', sa.JSON(), nullable=True),
        sa.Column('code_confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['bulk_batches.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('signing_bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_bundles_batch_id'), ['batch_id'],
                              unique=False)

    op.create_table(
        'signing_bundle_parties',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bundle_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['bundle_id'], ['signing_bundles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('party_id'),
    )
    with op.batch_alter_table('signing_bundle_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_bundle_parties_bundle_id'), ['bundle_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('signing_bundle_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_bundle_parties_bundle_id'))
    op.drop_table('signing_bundle_parties')
    with op.batch_alter_table('signing_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_bundles_batch_id'))
    op.drop_table('signing_bundles')
