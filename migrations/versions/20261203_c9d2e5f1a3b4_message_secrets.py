"""signing links and codes kept sealed: messages.secrets, parties.link_sealed

Existing rows: every party's working link found in its messages is sealed onto the party (so a
reminder can repeat it), then the signer messages (invitations, reminders, codes) get markers
where their links and codes were. The values stay sealed in messages.secrets, except for
messages a real server (SMTP, SMS gateway) already delivered: those stay redacted for good.

Revision ID: c9d2e5f1a3b4
Revises: b7e4c1d9a2f0
Create Date: 2026-12-03 00:15:00.000000

"""
import hashlib
import json
import re
import secrets

import sqlalchemy as sa
from alembic import context, op


# revision identifiers, used by Alembic.
revision = 'c9d2e5f1a3b4'
down_revision = 'b7e4c1d9a2f0'
branch_labels = None
depends_on = None

# Written out here (not imported): a migration must do the same thing whatever the code becomes.
LINK_KINDS = ('signing-invitation', 'signing-reminder')
CODE_KINDS = ('signing_code',)
REAL_BACKENDS = ('smtp', 'sms-gateway')
LINK_TOKEN = re.compile(r'/s/([A-Za-z0-9_\-]{20,200})')
CODE = re.compile(r'(?<![0-9])([0-9]{6})(?![0-9])')
MARKER = re.compile(r'\[\[secret:[0-9a-f]{12}\]\]')
MASK = '••••••'
BATCH = 500

messages = sa.table(
    'messages', sa.column('id', sa.Integer), sa.column('kind', sa.String),
    sa.column('status', sa.String), sa.column('backend', sa.String),
    sa.column('subject', sa.String), sa.column('body_text', sa.Text),
    sa.column('body_html', sa.Text), sa.column('secrets', sa.Text),
)
parties = sa.table(
    'parties', sa.column('id', sa.Integer), sa.column('token_hash', sa.String),
    sa.column('link_sealed', sa.Text),
)


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrets', sa.Text(), nullable=True))
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_sealed', sa.Text(), nullable=True))
    if context.is_offline_mode():
        return  # the rows are rewritten in Python: nothing to emit as SQL
    connection = op.get_bind()
    _seal_party_links(connection)
    _hide_message_secrets(connection)


def downgrade():
    if not context.is_offline_mode():
        _restore_message_secrets(op.get_bind())
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('link_sealed')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('secrets')


def _batches(connection, kinds):
    after = 0
    while True:
        rows = connection.execute(
            sa.select(messages).where(messages.c.kind.in_(kinds), messages.c.id > after)
            .order_by(messages.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _seal_party_links(connection):
    from portal.secretbox import SIGNING_LINK, seal

    tokens = {}
    for rows in _batches(connection, LINK_KINDS):
        for row in rows:
            for raw in LINK_TOKEN.findall((row.body_text or '') + (row.body_html or '')):
                tokens[hashlib.sha256(raw.encode()).hexdigest()] = raw
    if not tokens:
        return
    waiting = connection.execute(
        sa.select(parties.c.id, parties.c.token_hash)
        .where(parties.c.token_hash.is_not(None), parties.c.link_sealed.is_(None))
    ).all()
    for party_id, token_hash in waiting:
        if token_hash in tokens:
            connection.execute(parties.update().where(parties.c.id == party_id)
                               .values(link_sealed=seal(tokens[token_hash], SIGNING_LINK)))


def _hide_message_secrets(connection):
    from portal.secretbox import MESSAGE_SECRETS, seal

    for rows in _batches(connection, LINK_KINDS + CODE_KINDS):
        for row in rows:
            found = (CODE.findall(row.body_text or '') if row.kind in CODE_KINDS
                     else LINK_TOKEN.findall((row.body_text or '') + (row.body_html or '')))
            values = sorted(set(found), key=len, reverse=True)
            if not values:
                continue
            marker_of = {value: f'[[secret:{secrets.token_hex(6)}]]' for value in values}
            pattern = re.compile('|'.join(re.escape(value) for value in values))
            hidden = {name: pattern.sub(lambda match: marker_of[match.group(0)],
                                        getattr(row, name) or '')
                      for name in ('subject', 'body_text', 'body_html')}
            delivered = row.status == 'sent' and row.backend in REAL_BACKENDS
            sealed = None if delivered else seal(
                json.dumps({marker: value for value, marker in marker_of.items()}),
                MESSAGE_SECRETS)
            connection.execute(messages.update().where(messages.c.id == row.id)
                               .values(secrets=sealed, **hidden))


def _restore_message_secrets(connection):
    from portal.secretbox import MESSAGE_SECRETS, unseal

    for rows in _batches(connection, LINK_KINDS + CODE_KINDS):
        for row in rows:
            try:
                values = json.loads(unseal(row.secrets, MESSAGE_SECRETS) or '{}')
            except ValueError:
                values = {}
            filled = {name: MARKER.sub(lambda match: values.get(match.group(0), MASK),
                                       getattr(row, name) or '')
                      for name in ('subject', 'body_text', 'body_html')}
            connection.execute(messages.update().where(messages.c.id == row.id).values(**filled))
