"""The one exception type that the CLI turns into a one-line message and exit code 2.

Example
-------
>>> try:
...     raise InputError("data.txt", "line 3 has 2 fields, expected 3", "fix or remove the line")
... except InputError as err:
...     print(err)
data.txt: line 3 has 2 fields, expected 3 (fix or remove the line)
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: what was wrong, where, and what to do about it.

    Parameters
    ----------
    where : str
        The file, option or key at fault (with a line number when there is one).
    problem : str
        What is wrong.
    hint : str, optional
        What the user can do about it.
    """

    def __init__(self, where: str, problem: str, hint: str = "") -> None:
        self.where = where
        self.problem = problem
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        text = f"{self.where}: {self.problem}"
        return f"{text} ({self.hint})" if self.hint else text
