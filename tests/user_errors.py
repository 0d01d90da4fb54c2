"""The shape of a user error, shared by the tests: one ``error:`` line, exit code 2.

A module of its own (not ``conftest``): ``tests/web`` has a conftest too, and which one the
name ``conftest`` means depends on the order pytest collects the folders in.
"""

from __future__ import annotations


def assert_user_error(res, *needles: str) -> str:
    """A CLI result that is a user error: exit code 2, one ``error: `` line, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in err, err
    return err
