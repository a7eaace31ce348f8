"""Reading data files (:mod:`.tables`) and declarative model specifications
(:mod:`.specs`, TOML).

Where it sits: the files layer, above the config layer (specs build priors and sampler
settings); imported by the command line only.
"""

from .specs import ModelSpec, RunSpec, load_spec
from .tables import MISSING_POLICIES, DataTable, file_sha256, read_data, read_table

__all__ = ["MISSING_POLICIES", "DataTable", "ModelSpec", "RunSpec", "file_sha256", "load_spec",
           "read_data", "read_table"]
