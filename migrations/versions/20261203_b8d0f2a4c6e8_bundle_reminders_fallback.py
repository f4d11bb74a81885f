"""signing bundles: one open bundle per batch and signer, reminders, the one-by-one fallback

Revision ID: b8d0f2a4c6e8
Revises: b8d2f4a6c0e1
Create Date: 2026-12-03 18:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c6e8'
down_revision = 'b8d2f4a6c0e1'
branch_labels = None
depends_on = None

OPEN_BUNDLE = sa.text('closed_at IS NULL')


def upgrade():
    with op.batch_alter_table('signing_bundles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fallback_reason', sa.String(length=16), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('last_reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), nullable=False,
                                      server_default='0'))
    bundles = sa.table('signing_bundles', sa.column('id', sa.Integer),
                       sa.column('batch_id', sa.Integer), sa.column('channel', sa.String),
                       sa.column('email', sa.String), sa.column('phone', sa.String),
                       sa.column('used_at', sa.DateTime(timezone=True)),
                       sa.column('expires_at', sa.DateTime(timezone=True)),
                       sa.column('closed_at', sa.DateTime(timezone=True)))
    # Used bundles are closed; of any open ones for the same batch and signer (a race before
    # this index), only the newest stays open, as the joining code chose the newest.
    op.execute(bundles.update().where(bundles.c.used_at.is_not(None))
               .values(closed_at=bundles.c.used_at))
    newer = bundles.alias('newer')
    op.execute(bundles.update().where(
        bundles.c.closed_at.is_(None),
        sa.exists().where(newer.c.batch_id == bundles.c.batch_id,
                          newer.c.channel == bundles.c.channel,
                          newer.c.email == bundles.c.email, newer.c.phone == bundles.c.phone,
                          newer.c.closed_at.is_(None), newer.c.id > bundles.c.id))
               .values(closed_at=sa.func.coalesce(bundles.c.expires_at, bundles.c.used_at,
                                                  sa.func.current_timestamp())))
    with op.batch_alter_table('signing_bundles', schema=None) as batch_op:
        batch_op.alter_column('fallback_reason', server_default=None)
        batch_op.alter_column('reminders_sent', server_default=None)
        batch_op.create_index('uq_signing_bundles_open', ['batch_id', 'channel', 'email', 'phone'],
                              unique=True, sqlite_where=OPEN_BUNDLE,
                              postgresql_where=OPEN_BUNDLE)


def downgrade():
    with op.batch_alter_table('signing_bundles', schema=None) as batch_op:
        batch_op.drop_index('uq_signing_bundles_open', sqlite_where=OPEN_BUNDLE,
                            postgresql_where=OPEN_BUNDLE)
        batch_op.drop_column('reminders_sent')
        batch_op.drop_column('last_reminded_at')
        batch_op.drop_column('fallback_reason')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('link_sealed')
