"""``artifactlab interp ...``: the interpolation / extrapolation lab's commands.

Each command lives in its own module (``fit_cmd``, ``hull_cmd``, ``dd_cmd``) and
registers itself on :data:`interp_app`.

Example
-------
>>> sorted(c.name for c in interp_app.registered_commands)
['double-descent', 'fit', 'hull']
"""

from __future__ import annotations

import typer

from artifactlab.interp import dd_cmd, fit_cmd, hull_cmd

interp_app = typer.Typer(
    help="Interpolation vs extrapolation: 1-D fits, convex hulls, double descent.",
    no_args_is_help=True,
)
for _module in (fit_cmd, hull_cmd, dd_cmd):
    _module.register(interp_app)
