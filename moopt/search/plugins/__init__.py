"""Other libraries' algorithms as moopt searches (plug-ins behind the same ask/tell interface).

* :mod:`.pymoo`: pymoo's NSGA-II, NSGA-III, MOEA/D and SMS-EMOA (registry names
  ``"nsga2"``, ``"nsga3"``, ``"moead"``, ``"smsemoa"``).
* :mod:`.deap`: DEAP's NSGA-II without ``creator`` globals (``"deap-nsga2"``).

Neither library is imported until one of these modules is.  Converting a pymoo
*problem* is :func:`moopt.from_pymoo` (:mod:`moopt.interop`).
"""
