"""spectral: training feed-forward networks in the spectral domain (Giambagli et al., Nat. Commun. 12, 1330, 2021)."""
from .layers import RestrictedLinear, SpectralInit, SpectralLinear
from .models import SCHEMES, build_model, count_trainable, retract

__version__ = "0.1.0"
__all__ = ["SpectralLinear", "RestrictedLinear", "SpectralInit", "SCHEMES", "build_model", "count_trainable",
           "retract", "__version__"]
