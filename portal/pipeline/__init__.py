"""The pipeline board: every document's stage at a glance, and the manager's controls."""

from flask import Blueprint

from portal.pipeline.cards import card_context

bp = Blueprint("pipeline", __name__)


@bp.context_processor
def card_helpers():

    return card_context()


# Routes register themselves on `bp` when their modules are imported.
from portal.pipeline import panel, views  # noqa: E402,F401
