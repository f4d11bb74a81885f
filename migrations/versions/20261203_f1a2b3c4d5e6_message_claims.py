"""message claims: each message's one Message-ID, its window, its lease and its next try

Existing rows: a message without a Message-ID gets one (an email a server already took keeps
the id that server was given, from provider_id); the window of a queued message starts at its
last change. Statuses stay as they were: queued stays queued (the sweep delivers it), sent
stays sent, and failed stays failed for good (those failed before this version, when nothing
retried them; "send again" in the outbox still sends them).

Revision ID: f1a2b3c4d5e6
Revises: e4a7b2c8d1f6
Create Date: 2026-12-03 00:45:00.000000

"""
import os
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e4a7b2c8d1f6'
branch_labels = None
depends_on = None

BATCH = 500

messages = sa.table(
    'messages', sa.column('id', sa.Integer), sa.column('channel', sa.String),
    sa.column('provider_id', sa.String), sa.column('message_id_header', sa.String),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)),
    sa.column('queued_at', sa.DateTime(timezone=True)), sa.column('status', sa.String),
)


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id_header', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                      nullable=True))
    connection = op.get_bind()
    connection.execute(messages.update().values(
        queued_at=sa.func.coalesce(messages.c.updated_at, messages.c.created_at)))
    domain = _sender_domain(os.environ.get('SIGNET_MAIL_FROM', ''))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.channel, messages.c.provider_id)
            .where(messages.c.id > last).order_by(messages.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row_id, channel, provider_id in rows:
            header = provider_id if channel == 'email' and _is_message_id(provider_id) else (
                f'<signet.{row_id}.{secrets.token_hex(8)}@{domain}>')
            connection.execute(messages.update().where(messages.c.id == row_id)
                               .values(message_id_header=header))
        last = rows[-1][0]
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('message_id_header', existing_type=sa.String(length=300),
                              nullable=False)


def _sender_domain(sender):
    address = sender.rsplit('<', 1)[-1].rstrip('>').strip()
    return address.rsplit('@', 1)[-1] if '@' in address else 'localhost'


def _is_message_id(value):
    return bool(value) and value.startswith('<') and value.endswith('>') and '@' in value


def downgrade():
    # The statuses older versions know: a message between tries waits in the queue again.
    op.execute(messages.update().where(messages.c.status.in_(('sending', 'retrying')))
               .values(status='queued'))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('message_id_header')
