"""One app instance behind a load balancer, serving a frontend that was built beforehand.

    python scripts/run_instance.py PORT        (from the project folder)

It is `reflex run --env prod --backend-only --backend-port PORT` plus the one thing that
`--single-port` adds to the backend: the built frontend (REFLEX_WEB_WORKDIR, default .web,
its build/client) mounted on the same port. `--single-port` itself compiles and rebuilds the
frontend at every start, deleting the build first, so N instances of one checkout started
with it rebuild one another's files under their feet, and an instance restarted after a
crash would do so while the others serve. Build once (`reflex export --frontend-only
--no-zip`, with PUBLIC_URL set to the load balancer's address, which the build bakes in),
then start every instance with this: none of them writes to the build.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        sys.exit("usage: python scripts/run_instance.py PORT")
    from reflex.utils import exec as reflex_exec
    from reflex.utils import prerequisites

    build = prerequisites.get_web_dir() / "build" / "client" / "index.html"
    if not build.exists():
        sys.exit(
            f"run_instance: no frontend build at {build.parent}; build it first with "
            "`reflex export --frontend-only --no-zip --env prod` (make cluster does)."
        )
    serve_backend = reflex_exec.run_backend_prod

    def serve_backend_and_build(host: str, port: int, *args: Any, **kwargs: Any) -> None:
        # Reflex passes mount_frontend_compiled_app=False in backend-only mode.
        kwargs.pop("mount_frontend_compiled_app", None)
        serve_backend(host, port, *args[:1], mount_frontend_compiled_app=True, **kwargs)

    reflex_exec.run_backend_prod = serve_backend_and_build
    # The project folder is where Reflex looks for rxconfig.py and the app.
    sys.path.insert(0, str(Path.cwd()))
    from reflex.reflex import cli

    cli(["run", "--env", "prod", "--backend-only", "--backend-port", argv[0]])


if __name__ == "__main__":
    main(sys.argv[1:])
