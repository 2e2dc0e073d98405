"""Shared fixtures: `kubernetes` API clients on the `cluster` fixture (a ThreadedCluster) that a test module
defines for itself (tests/emulated/test_emulator*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import kubernetes
import pytest

from genai_emulator import ThreadedCluster


@pytest.fixture
def api(cluster: ThreadedCluster) -> Iterator[kubernetes.client.ApiClient]:
    # The client reads $KUBECONFIG only at import, so the path is always passed explicitly.
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(cluster.kubeconfig_path), client_configuration=configuration)
    with kubernetes.client.ApiClient(configuration) as client:
        yield client


@pytest.fixture
def core(api: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api)


@pytest.fixture
def apps(api: kubernetes.client.ApiClient) -> kubernetes.client.AppsV1Api:
    return kubernetes.client.AppsV1Api(api)


@pytest.fixture
def custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


@pytest.fixture
def storage(api: kubernetes.client.ApiClient) -> kubernetes.client.StorageV1Api:
    return kubernetes.client.StorageV1Api(api)
