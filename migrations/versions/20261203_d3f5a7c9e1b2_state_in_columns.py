"""state in columns: reminders and code sends on parties, a message's document, a run's outcome

Until now some state was read back out of the audit trail: when a party was last reminded, how
many codes it was sent within the hour, which document a signer's message was about, what a
rule's run did. Each gets its own column; the trail stays the evidence, never read for state.

Existing rows are filled from the events that told it so far (the same events the code used to
read), in Python over the JSON details so that SQLite and PostgreSQL do exactly the same:
- parties.reminders_sent and last_reminded_at from "party.reminded" (its `at`, the sweep's own
  clock, when recorded; else the event's time, as the sweep read it);
- parties.recent_code_sends from the "party.code_sent" events of the last hour (older sends
  no longer count towards the hourly limit);
- messages.document_id from the events naming a signer's message (details.message_id);
- automation_runs.outcome from "automation.ran" (details.run_id, details.outcome).

Revision ID: d3f5a7c9e1b2
Revises: a9b8c7d6e5f4
Create Date: 2026-12-03 06:10:00

"""
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision = 'd3f5a7c9e1b2'
down_revision = 'a9b8c7d6e5f4'
branch_labels = None
depends_on = None

# Written out here (not imported): a migration must do the same thing whatever the code becomes.
REMINDED = 'party.reminded'
CODE_SENT = 'party.code_sent'
SIGNER_MESSAGE_EVENTS = ('party.invited', 'party.reminded', 'party.invitation_resent',
                         'party.code_sent')
RAN = 'automation.ran'
SENDS_PER_HOUR = 5
HOUR = timedelta(hours=1)
BATCH = 500

events = sa.table(
    'audit_events', sa.column('id', sa.Integer), sa.column('document_id', sa.Integer),
    sa.column('type', sa.String), sa.column('actor_type', sa.String),
    sa.column('actor_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('details', sa.JSON),
)
parties = sa.table(
    'parties', sa.column('id', sa.Integer), sa.column('reminders_sent', sa.Integer),
    sa.column('last_reminded_at', sa.DateTime(timezone=True)),
    sa.column('recent_code_sends', sa.JSON),
)
messages = sa.table('messages', sa.column('id', sa.Integer), sa.column('document_id', sa.Integer))
runs = sa.table('automation_runs', sa.column('id', sa.Integer), sa.column('outcome', sa.JSON))


def upgrade():
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recent_code_sends', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('last_reminded_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_document_id'), ['document_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_messages_document_id_documents'),
                                    'documents', ['document_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('automation_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.JSON(), nullable=True))
    if context.is_offline_mode():
        return  # the rows are filled in Python: nothing to emit as SQL
    connection = op.get_bind()
    _fill_reminders(connection)
    _fill_code_sends(connection, datetime.now(UTC))
    _fill_message_documents(connection)
    _fill_run_outcomes(connection)


def downgrade():
    with op.batch_alter_table('automation_runs', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_messages_document_id_documents'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_messages_document_id'))
        batch_op.drop_column('document_id')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_column('last_reminded_at')
        batch_op.drop_column('reminders_sent')
        batch_op.drop_column('recent_code_sends')


def _events_of(connection, types, *conditions):
    """The events of these types, in batches, oldest first."""
    after = 0
    while True:
        rows = connection.execute(
            sa.select(events).where(events.c.type.in_(types), events.c.id > after, *conditions)
            .order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def _details(row) -> dict:
    return row.details if isinstance(row.details, dict) else {}


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive times; every stored time is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _reminded_at(row) -> datetime:
    try:
        return _utc(datetime.fromisoformat(_details(row)['at']))
    except (KeyError, TypeError, ValueError):
        return _utc(row.created_at)


def _fill_reminders(connection):
    count, last = defaultdict(int), {}
    for row in _events_of(connection, (REMINDED,)):
        party_id = _details(row).get('party_id')
        if not isinstance(party_id, int):
            continue
        moment = _reminded_at(row)
        count[party_id] += 1
        if party_id not in last or last[party_id] < moment:
            last[party_id] = moment
    for party_id, sent in count.items():
        connection.execute(parties.update().where(parties.c.id == party_id)
                           .values(reminders_sent=sent, last_reminded_at=last[party_id]))


def _fill_code_sends(connection, now: datetime):
    sends = defaultdict(list)
    for row in _events_of(connection, (CODE_SENT,), events.c.actor_type == 'party',
                          events.c.created_at > now - HOUR):
        if row.actor_id is not None:
            sends[row.actor_id].append(_utc(row.created_at))
    for party_id, moments in sends.items():
        recent = [moment.isoformat() for moment in sorted(moments)[-SENDS_PER_HOUR:]]
        connection.execute(parties.update().where(parties.c.id == party_id)
                           .values(recent_code_sends=recent))


def _fill_message_documents(connection):
    # An event's document exists (events go with their document): no check needed.
    for row in _events_of(connection, SIGNER_MESSAGE_EVENTS,
                          events.c.document_id.is_not(None)):
        message_id = _details(row).get('message_id')
        if isinstance(message_id, int):
            connection.execute(messages.update().where(messages.c.id == message_id)
                               .values(document_id=row.document_id))


def _fill_run_outcomes(connection):
    for row in _events_of(connection, (RAN,)):
        details = _details(row)
        run_id, outcome = details.get('run_id'), details.get('outcome')
        if isinstance(run_id, int) and isinstance(outcome, dict):
            connection.execute(runs.update().where(runs.c.id == run_id)
                               .values(outcome=outcome))
