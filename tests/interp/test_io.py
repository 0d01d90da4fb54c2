"""Numeric table reading: headers, comments, and every bad value named by file and line."""

from __future__ import annotations

import numpy as np
import pytest

from artifactlab.errors import InputError
from artifactlab.interp.io import read_numeric_csv


def write(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_header_comments_and_whitespace(tmp_path):
    path = write(tmp_path, "# points\nx,y\n\n0, 1\n2,3.5\n")
    assert read_numeric_csv(path).tolist() == [[0.0, 1.0], [2.0, 3.5]]
    path = write(tmp_path, "1 2 3\n4 5 6\n")
    np.testing.assert_array_equal(read_numeric_csv(path, ncols=3), [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("x,y\n1,2\n3,abc\n", ":3"),
        ("1,2\n3,\n", "missing value"),
        ("1,2\n3,nan\n", "non-finite"),
        ("1,2\ninf,2\n", "non-finite"),
        ("1,2\n1,2,3\n", "expected 2"),
    ],
)
def test_bad_values_name_file_and_line(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_numeric_csv(path)
    assert str(path) in err.value.message and needle in err.value.message


def test_a_second_header_is_an_error(tmp_path):
    with pytest.raises(InputError, match=":2"):
        read_numeric_csv(write(tmp_path, "x,y\na,b\n1,2\n"))


def test_too_few_rows_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="need at least 3"):
        read_numeric_csv(write(tmp_path, "1,2\n"), min_rows=3)
    with pytest.raises(InputError, match="no such file"):
        read_numeric_csv(tmp_path / "nope.csv")


def test_wrong_width_against_ncols(tmp_path):
    with pytest.raises(InputError, match="expected 2"):
        read_numeric_csv(write(tmp_path, "1,2,3\n"), ncols=2)
