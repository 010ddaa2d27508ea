"""How the Radix Themes plugin builds this app's bundle.

Reflex's plugin also lists `@radix-ui/themes` as a library for dynamic components (code
evaluated in the browser at run time), which imports the whole package into the root
chunk: every Radix component is downloaded, parsed and evaluated on the first screen even
though a page uses a dozen. This app renders no dynamic components, so the package is left
to the pages' own imports and the bundler keeps only what they use
(bench/frontend.py measures the difference). The package is still installed: every
Radix component names it as its library.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


class RadixThemes(rx.plugins.RadixThemesPlugin):
    def get_frontend_dependencies(self, **context: Any) -> tuple[str, ...]:
        return ()
