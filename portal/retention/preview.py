"""What the company page shows of retention: what a run would do now, and what is held."""

from dataclasses import dataclass

from portal.models_base import utcnow
from portal.retention.policy import FILES, MASK, Due, count_due, due, held_count

# The page lists the first ones; the counts say how many there are in all.
LISTED = 50


@dataclass(frozen=True)
class RetentionPreview:
    files_due: int
    mask_due: int
    held: int
    listed: list[Due]

    @property
    def listed_all(self) -> bool:
        return len(self.listed) == self.files_due + self.mask_due


def retention_preview(company_id: int) -> RetentionPreview:
    """A dry run for one company, as of now."""
    now = utcnow()
    return RetentionPreview(
        files_due=count_due(now, FILES, company_id),
        mask_due=count_due(now, MASK, company_id),
        held=held_count(company_id),
        listed=[item for action in (FILES, MASK)
                for item in due(now, LISTED, action, company_id)])
