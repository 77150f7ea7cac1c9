"""Fixtures of the core tests."""

import pytest


@pytest.fixture(scope="module")
def dask_client():
    """A 2-worker local Dask cluster per test module, with the settings DaskEvaluator gives its own
    (moopt's retry applies, no queued tasks)."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
