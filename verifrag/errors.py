"""The one exception type that means "the user gave us something unusable".

The CLI turns it into a single line on stderr and a non-zero exit; anything else
is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: a missing file, a corrupt checkpoint, an invalid option value."""
