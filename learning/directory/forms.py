"""Forms of the directory pages: each is a CSRF-protected button."""

from learning.forms import ActionForm


class LinkDecisionForm(ActionForm):
    """Confirm or refuse one pending link."""


class TestConnectionForm(ActionForm):
    """Connect to the directory as the service account and search once."""
