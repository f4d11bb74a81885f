"""public links: a pre-signed mode, our company's signer signing once for a link

Revision ID: b8d2f4a6c0e1
Revises: a7c9e1b3d5f7
Create Date: 2026-12-03 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d2f4a6c0e1'
down_revision = 'a7c9e1b3d5f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('public_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presigned', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    op.create_table(
        'public_link_presigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('position', sa.String(length=300), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('agreement_sha256', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_attempts', sa.Integer(), nullable=False),
        sa.Column('codes_sent', sa.Integer(), nullable=False),
        sa.Column('code_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('recent_code_sends', sa.JSON(), nullable=False),
        sa.Column('code_confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('session_tag', sa.String(length=32), nullable=False),
        sa.Column('signature_sha256', sa.String(length=64), nullable=True),
        sa.Column('signature_method', sa.String(length=16), nullable=False),
        sa.Column('stamp_sha256', sa.String(length=64), nullable=True),
        sa.Column('stamp_method', sa.String(length=16), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=400), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['link_id'], ['public_links.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('public_link_presigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_link_presigns_link_id'), ['link_id'],
                              unique=False)


def downgrade():
    op.drop_table('public_link_presigns')
    with op.batch_alter_table('public_links', schema=None) as batch_op:
        batch_op.drop_column('presigned')
