"""The data home as a Dagster resource."""

from dagster import ConfigurableResource


class NianbaoHome(ConfigurableResource):
    """The data home directory: home.toml, registry/, inbox/, archive/, warehouse/, reports/."""

    path: str

    def home(self):
        from pipeline.home import Home

        return Home.resolve(self.path)
