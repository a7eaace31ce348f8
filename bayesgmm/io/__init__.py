"""Reading data files (:mod:`.tables`) and declarative model specifications
(:mod:`.specs`, TOML)."""

from .specs import ModelSpec, RunSpec, load_spec
from .tables import MISSING_POLICIES, DataTable, read_data, read_table

__all__ = ["MISSING_POLICIES", "DataTable", "ModelSpec", "RunSpec", "load_spec", "read_data",
           "read_table"]
