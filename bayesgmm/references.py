"""The works the reports cite: the references of the methods a Methods paragraph names, and
of the author-year citations the selection report's text makes.

One bibliography, so that a reference is written once: :mod:`bayesgmm.paper_methods` cites by
method (:data:`REFERENCES`), a report's References list is drawn from what its text cites
(:func:`references_cited` over :data:`CITATIONS`), so that no citation goes without its
reference and no reference stands uncited.

Where it sits: the vocabulary layer (imports nothing from bayesgmm); used by the Methods
paragraph and the report.
"""

from __future__ import annotations

import html
import unicodedata

__all__ = ["CITATIONS", "REFERENCES", "alphabetical", "references_cited"]

# Each method the paragraph may name, with its reference (as a Methods section cites it).
REFERENCES = {
    "nuts": "Hoffman, M. D. and Gelman, A. (2014). The No-U-Turn Sampler: adaptively setting "
            "path lengths in Hamiltonian Monte Carlo. Journal of Machine Learning Research "
            "15, 1593-1623.",
    "rhat": "Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. and Bürkner, P.-C. (2021). "
            "Rank-normalization, folding, and localization: an improved R-hat for assessing "
            "convergence of MCMC. Bayesian Analysis 16, 667-718.",
    "ebfmi": "Betancourt, M. (2016). Diagnosing suboptimal cotangent disintegrations in "
             "Hamiltonian Monte Carlo. arXiv:1604.00695.",
    "stephens": "Stephens, M. (2000). Dealing with label switching in mixture models. Journal "
                "of the Royal Statistical Society, Series B 62, 795-809.",
    "ecr": "Papastamoulis, P. and Iliopoulos, G. (2010). An artificial allocations based "
           "solution to the label switching problem in Bayesian analysis of mixtures of "
           "distributions. Journal of Computational and Graphical Statistics 19, 313-331.",
    "lkj": "Lewandowski, D., Kurowicka, D. and Joe, H. (2009). Generating random correlation "
           "matrices based on vines and extended onion method. Journal of Multivariate "
           "Analysis 100, 1989-2001.",
    "map_em": "Fraley, C. and Raftery, A. E. (2007). Bayesian regularization for normal "
              "mixture estimation and model-based clustering. Journal of Classification 24, "
              "155-181.",
    "em": "Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). Maximum likelihood from "
          "incomplete data via the EM algorithm. Journal of the Royal Statistical Society, "
          "Series B 39, 1-38.",
    "kmeans++": "Arthur, D. and Vassilvitskii, S. (2007). k-means++: the advantages of careful "
                "seeding. Proceedings of the Eighteenth Annual ACM-SIAM Symposium on Discrete "
                "Algorithms, 1027-1035.",
    "rank": "Säilynoja, T., Bürkner, P.-C. and Vehtari, A. (2022). Graphical test for discrete "
            "uniformity and its applications in goodness-of-fit evaluation and multiple "
            "sample comparison. Statistics and Computing 32, 32.",
    "ppc": "Gelman, A., Meng, X.-L. and Stern, H. (1996). Posterior predictive assessment of "
           "model fitness via realized discrepancies. Statistica Sinica 6, 733-807.",
    "bowley": "Bowley, A. L. (1920). Elements of Statistics, 4th edition. London: P. S. King "
              "and Son.",
    "moors": "Moors, J. J. A. (1988). A quantile alternative for kurtosis. Journal of the "
             "Royal Statistical Society, Series D (The Statistician) 37, 25-32.",
    "completed": "Gelman, A., Van Mechelen, I., Verbeke, G., Heitjan, D. F. and Meulders, M. "
                 "(2005). Multiple imputation for model checking: completed-data plots with "
                 "missing and latent data. Biometrics 61, 74-85.",
    "noise": "Banfield, J. D. and Raftery, A. E. (1993). Model-based Gaussian and non-Gaussian "
             "clustering. Biometrics 49, 803-821.",
    "pymc": "Abril-Pla, O. et al. (2023). PyMC: a modern, and comprehensive probabilistic "
            "programming framework in Python. PeerJ Computer Science 9, e1516.",
    "arviz": "Kumar, R., Carroll, C., Hartikainen, A. and Martin, O. (2019). ArviZ a unified "
             "library for exploratory analysis of Bayesian models in Python. Journal of Open "
             "Source Software 4, 1143.",
}

# The reports' citations, as their text writes them (author-year, or a method's name), with
# their full references: a References list holds those its page makes
# (:func:`references_cited`).
CITATIONS = {
    "Akaike 1974": "Akaike, H. (1974). A new look at the statistical model identification. "
                   "IEEE Transactions on Automatic Control 19, 716-723.",
    "Biernacki et al. 2000": "Biernacki, C., Celeux, G. and Govaert, G. (2000). Assessing a "
                             "mixture model for clustering with the integrated completed "
                             "likelihood. IEEE Transactions on Pattern Analysis and Machine "
                             "Intelligence 22, 719-725.",
    "Burnham & Anderson 2002": "Burnham, K. P. and Anderson, D. R. (2002). Model Selection "
                               "and Multimodel Inference: A Practical Information-Theoretic "
                               "Approach, 2nd edn. Springer, New York.",
    "Dvoretzky-Kiefer-Wolfowitz": "Dvoretzky, A., Kiefer, J. and Wolfowitz, J. (1956). "
                                  "Asymptotic minimax character of the sample distribution "
                                  "function and of the classical multinomial estimator. The "
                                  "Annals of Mathematical Statistics 27, 642-669.",
    "Hennig 2010": "Hennig, C. (2010). Methods for merging Gaussian mixture components. "
                   "Advances in Data Analysis and Classification 4, 3-34.",
    "Kass & Raftery 1995": "Kass, R. E. and Raftery, A. E. (1995). Bayes factors. Journal of "
                           "the American Statistical Association 90, 773-795.",
    "Malsiner-Walli, Frühwirth-Schnatter & Grün 2016": (
        "Malsiner-Walli, G., Frühwirth-Schnatter, S. and Grün, B. (2016). Model-based "
        "clustering based on sparse finite Gaussian mixtures. Statistics and Computing 26, "
        "303-324."),
    "McLachlan & Peel 2000": "McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models. "
                             "Wiley, New York.",
    # Sarle's coefficient (SAS/STAT's manual), as its properties are set out in print
    "Sarle's bimodality coefficient": "Pfister, R., Schwarz, K. A., Janczyk, M., Dale, R. and "
                                      "Freeman, J. B. (2013). Good things peak in pairs: a "
                                      "note on the bimodality coefficient. Frontiers in "
                                      "Psychology 4, 700.",
    "Sheather-Jones": "Sheather, S. J. and Jones, M. C. (1991). A reliable data-based "
                      "bandwidth selection method for kernel density estimation. Journal of "
                      "the Royal Statistical Society, Series B 53, 683-690.",
    "Silverman's rule": "Silverman, B. W. (1986). Density Estimation for Statistics and Data "
                        "Analysis. Chapman and Hall, London.",
    "Ray & Lindsay 2005": "Ray, S. and Lindsay, B. G. (2005). The topography of multivariate "
                          "normal mixtures. The Annals of Statistics 33, 2042-2065.",
    "Schwarz 1978": "Schwarz, G. (1978). Estimating the dimension of a model. The Annals of "
                    "Statistics 6, 461-464.",
    "Scrucca et al. 2016": "Scrucca, L., Fop, M., Murphy, T. B. and Raftery, A. E. (2016). "
                           "mclust 5: clustering, classification and density estimation "
                           "using Gaussian finite mixture models. The R Journal 8, 289-317.",
    "Vehtari et al. 2017": "Vehtari, A., Gelman, A. and Gabry, J. (2017). Practical Bayesian "
                           "model evaluation using leave-one-out cross-validation and WAIC. "
                           "Statistics and Computing 27, 1413-1432.",
    "Yao et al. 2018": "Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). Using "
                       "stacking to average Bayesian predictive distributions (with "
                       "discussion). Bayesian Analysis 13, 917-1007.",
}


def references_cited(text: str) -> tuple[str, ...]:
    """The full references of the :data:`CITATIONS` that ``text`` (plain or HTML) makes, in
    alphabetical order: a page's References list, drawn from what the page says."""
    plain = html.unescape(text)
    return tuple(sorted((full for cited, full in CITATIONS.items() if cited in plain),
                        key=alphabetical))


def alphabetical(reference: str) -> str:
    """A reference's sort key: its letters without accents (Säilynoja before Stephens)."""
    return unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode()
