"""Interoperability with pymoo and DEAP.

* :mod:`moopt.interop.pymoo`: pymoo's algorithms (NSGA-II, NSGA-III, MOEA/D,
  SMS-EMOA) as moopt searches, and pymoo problems as moopt problems.
* :mod:`moopt.interop.deap`: DEAP's NSGA-II as a moopt search.

Neither library is imported until one of these modules is.
"""
