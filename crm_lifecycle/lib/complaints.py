"""The vocabulary of complaints (domain.md section 5 and 6), shared by the complaint and its SLAs."""

TYPE_SELECTION = [
    ("complaint", "Complaint"),
    ("fault", "Fault report"),
    ("request", "Service request"),
]
# the reasons customers leave: service 68%, price 15%, product 12%, the rest other
CATEGORY_SELECTION = [
    ("service", "Service"),
    ("price", "Price"),
    ("product", "Product"),
    ("delivery", "Delivery"),
    ("other", "Other"),
]
SEVERITY_SELECTION = [
    ("low", "Low"),
    ("normal", "Normal"),
    ("high", "High"),
    ("critical", "Critical"),
]
CHANNEL_SELECTION = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("web", "Web form"),
    ("portal", "Portal"),
    ("in_person", "In person"),
]
SLA_STATUS_SELECTION = [
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]
REVIEW_SELECTION = [
    ("none", "Not required"),
    ("to_review", "To review"),
    ("approved", "Approved"),
    ("sent_back", "Sent back"),
]
# complaints of these severities are closed only once a complaints manager approved their resolution
REVIEWED_SEVERITIES = ("high", "critical")
# what only the review of a complaints manager may decide
REVIEW_DECISIONS = ("approved", "sent_back")


def control_character(text, allowed=""):
    """The first control character of `text` (C0 or DEL) that is not in `allowed`, else None.

    PostgreSQL refuses NUL in text; the other control characters are invisible and come from
    pasted binary or forged requests, never from someone typing.
    """
    return next((char for char in text or "" if (char < " " or char == "\x7f") and char not in allowed), None)


def next_free_name(name, taken):
    """`name`, or the first of `name-1`, `name-2`... that is not in `taken`."""
    candidate, number = name, 0
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate
