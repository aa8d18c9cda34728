"""Resources shared by every asset: the instance's settings, resolved at run time from HUIKUAN_HOME."""

from __future__ import annotations

import dagster as dg

from huikuan.settings import Settings, load_settings


class HuikuanResource(dg.ConfigurableResource):
    """Where this instance keeps its data; empty means $HUIKUAN_HOME, else ./data."""

    home: str = ""

    def settings(self) -> Settings:
        return load_settings(self.home or None).ensure_dirs()
