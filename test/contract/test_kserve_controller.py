"""Serving that deploys: every InferenceService the library emits meets KServe v0.20.0's real
controller and webhooks (kserve_controller.py), as a deploy applies it after the controller.

- The reference stack's models manifest in DEVELOPMENT, then PRODUCTION over it (the upgrade path),
  then the standalone example's three models (canary, MLflow-registered, GPU): each is admitted by
  KServe's validating webhook, reconciled into its Deployment, Service (and HPA where it scales),
  and its ReplicaSet's pods are created, mutated by KServe's pod webhook (storage initializer,
  agent) and admitted by Pod Security "restricted" in the stack's namespaces.
- Controls: an InferenceService the webhook must refuse is refused, and a pod template that breaks
  "restricted" is reported by its ReplicaSet.
- Canary in Standard mode: what the controller makes of `spec.canary`, measured.
"""
import copy
import json
import time

import pytest

import k8s
from conftest import report
from kserve_controller import kserve_cluster

ENFORCE = 'pod-security.kubernetes.io/enforce'


@pytest.fixture(scope='module')
def rendered():
    return k8s.load_objects('kserve-controller.json')


def isvcs_of(objects):
    return [o for o in objects if o['kind'] == 'InferenceService']


def scales(isvc):
    return isvc['metadata']['annotations']['serving.kserve.io/autoscalerClass'] == 'hpa'


def expected_pods(isvc):
    """Pods the controller's Deployments start with: KServe leaves the replica count of an
    autoscaled predictor to its HPA, else sets minReplicas; a canary starts with one."""
    return (1 if scales(isvc) else isvc['spec']['predictor'].get('minReplicas', 1)) + len(isvc['spec'].get('canary') or [])


def restricted_namespace(rendered):
    [models] = [n for n in rendered['profiles']['development']['models'] if n['kind'] == 'Namespace']
    return models


def collect(cluster, namespace):
    return {kind: {o['metadata']['name']: o for o in cluster.get(kind, '-n', namespace)['items']}
            for kind in ('deployments', 'services', 'hpa', 'pods')}


@pytest.fixture(scope='module')
def cluster(rendered):
    dev = rendered['profiles']['development']
    with kserve_cluster(dev['releases'], dev['namespaces']) as kc:
        t = kc.timings
        report(f'KServe manager: API server {t["apiserver"]:.1f} s, 6 CRDs established {t["crds"]:.1f} s, manager ready {t["manager"]:.1f} s')
        yield kc


def current_pods(cluster, namespace, name, count, timeout=60):
    """The pods of the newest ReplicaSet of each of the InferenceService's Deployments, once there
    are `count`. After an upgrade the old ones stay: without a kubelet no new pod becomes ready, so
    a rollout never finishes (on a cluster it would)."""
    deadline = time.monotonic() + timeout
    while True:
        replica_sets = cluster.get('replicasets', '-n', namespace, '-l', f'serving.kserve.io/inferenceservice={name}')['items']
        newest = {}
        for rs in replica_sets:
            owner = rs['metadata']['ownerReferences'][0]['name']
            revision = int(rs['metadata']['annotations']['deployment.kubernetes.io/revision'])
            if owner not in newest or revision > newest[owner][0]:
                newest[owner] = (revision, rs['metadata']['labels']['pod-template-hash'])
        hashes = {h for _, h in newest.values()}
        pods = [p for p in cluster.get('pods', '-n', namespace, '-l', f'serving.kserve.io/inferenceservice={name}')['items']
                if p['metadata']['labels'].get('pod-template-hash') in hashes]
        if len(pods) >= count:
            return pods
        assert time.monotonic() < deadline, f'{namespace}/{name}: {len(pods)} of {count} pods of the newest ReplicaSets'
        time.sleep(0.2)


@pytest.fixture(scope='module')
def deployed(cluster, rendered):
    """The stack's models in DEVELOPMENT, then PRODUCTION over them (KServe's configuration of
    PRODUCTION too: the upgrade path), then the standalone example, each applied after the controller."""
    dev, prod = rendered['profiles']['development'], rendered['profiles']['production']
    stages = {'development': (dev, dev['models']), 'production': (prod, prod['models']), 'standalone': (dev, rendered['standalone'])}
    template = restricted_namespace(rendered)
    out = {}
    for stage, (install, objects) in stages.items():
        if stage == 'production':
            cluster.api.apply([o for o in install['releases'] if o['kind'] in ('ConfigMap', 'ClusterServingRuntime', 'ClusterStorageContainer')])
        cluster.deploy(objects, template)
        made = {}
        for isvc in isvcs_of(objects):
            namespace, name = isvc['metadata']['namespace'], isvc['metadata']['name']
            applied = time.monotonic()
            pods = current_pods(cluster, namespace, name, expected_pods(isvc))
            made[f'{namespace}/{name}'] = {'isvc': isvc, 'seconds': time.monotonic() - applied, 'current': pods}
        [config] = [o for o in install['releases'] if o['kind'] == 'ConfigMap' and o['metadata']['name'] == 'inferenceservice-config']
        for key, m in made.items():
            namespace, name = key.split('/')
            m.update(collect(cluster, namespace))
            m['pods'] = m.pop('current')
            m['namespace_labels'] = cluster.get('namespace', namespace)['metadata']['labels']
            m['failed'] = cluster.replica_failures(namespace)
            m['agent_config'] = json.loads(config['data']['agent'])
        out[stage] = made
    return out


def test_every_inferenceservice_is_accepted_reconciled_and_its_pods_admitted(deployed):
    count = 0
    for stage, models in deployed.items():
        assert models, f'{stage}: no InferenceService to apply'
        for key, made in models.items():
            isvc, pods = made['isvc'], made['pods']
            name = isvc['metadata']['name']
            assert made['namespace_labels'][ENFORCE] == 'restricted', f'{key}: its namespace does not enforce "restricted"'
            assert made['failed'] == [], (key, made['failed'])
            predictor = isvc['spec']['predictor']
            deployment = made['deployments'][f'{name}-predictor']
            assert deployment['metadata']['ownerReferences'][0]['kind'] == 'InferenceService'
            assert made['services'][f'{name}-predictor']['spec']['selector']
            assert (f'{name}-predictor' in made['hpa']) == scales(isvc), (key, sorted(made['hpa']))
            if scales(isvc):
                hpa = made['hpa'][f'{name}-predictor']['spec']
                assert (hpa['minReplicas'], hpa['maxReplicas']) == (predictor['minReplicas'], predictor['maxReplicas'])
            assert len(pods) == expected_pods(isvc), (key, [p['metadata']['name'] for p in pods])
            for pod in pods:
                assert [c['name'] for c in pod['spec'].get('initContainers', [])] == ['storage-initializer'], key
                containers = [c['name'] for c in pod['spec']['containers']]
                assert containers == ['kserve-container', *(['agent'] if predictor.get('logger') else [])], (key, containers)
                server = pod['spec']['containers'][0]
                # The canary's model has the same resources; the limits the construct sets win over the runtime's.
                assert server['resources']['requests'] == predictor['model']['resources']['requests'], (key, server['resources'])
                assert server['resources']['limits']['cpu'] == predictor['model']['resources']['limits']['cpu'], (key, server['resources'])
                # What the DEVELOPMENT budget test counts for the agent (test/kubernetes-schema.test.ts).
                for agent in pod['spec']['containers'][1:]:
                    config = made['agent_config']
                    assert agent['resources']['requests'] == {'cpu': config['cpuRequest'], 'memory': config['memoryRequest']}, (key, agent['resources'])
            count += 1
            report(f'KServe controller: {stage} {key}: {len(pods)} pod(s) admitted, apply to pods {made["seconds"]:.2f} s')
    assert count == 5, count


def test_the_gpu_model_asks_for_more_than_the_runtimes_cpu_limit_and_gets_its_pod(deployed):
    [gpu] = [m for m in deployed['standalone'].values() if 'nvidia.com/gpu' in m['isvc']['spec']['predictor']['model']['resources']['requests']]
    server = gpu['pods'][0]['spec']['containers'][0]['resources']
    assert server['requests']['cpu'] == server['limits']['cpu'] == '2'
    assert server['limits']['nvidia.com/gpu'] == '1'


def test_the_webhook_refuses_a_name_on_the_main_predictor(cluster, deployed, rendered):
    """The control for the fix: what the stack emitted before is refused by the real webhook."""
    [isvc] = isvcs_of(rendered['profiles']['development']['models'])
    named = copy.deepcopy(isvc)
    named['metadata']['name'] = 'named-predictor'
    named['spec']['predictor']['model']['name'] = 'kserve-container'
    result = cluster.apply_result([named])
    assert result.returncode != 0
    assert "the 'name' field is not allowed in standard predictor" in result.stderr, result.stderr[-2000:]


def test_a_pod_that_breaks_restricted_is_reported_by_its_replicaset(cluster, deployed, rendered):
    """Control for the admission: a predictor sharing the node's PID namespace is accepted by KServe,
    and every pod its ReplicaSet tries is refused by Pod Security."""
    [isvc] = isvcs_of(rendered['profiles']['development']['models'])
    rooted = copy.deepcopy(isvc)
    rooted['metadata']['name'] = 'host-pid'
    rooted['spec']['predictor']['hostPID'] = True
    cluster.deploy([rooted])
    deadline = time.monotonic() + 60
    while True:
        # The ReplicaSet's ReplicaFailure condition, which KServe lifts into the InferenceService's status.
        refused = cluster.replica_failures('models', 'app=isvc.host-pid-predictor')
        if refused:
            break
        assert time.monotonic() < deadline, 'the ReplicaSet reported no refused pod'
        time.sleep(0.3)
    assert any('violates PodSecurity "restricted:latest"' in m and 'hostPID=true' in m for m in refused), refused
    conditions = cluster.get('inferenceservice', '-n', 'models', 'host-pid')['status']['conditions']
    assert any(c['type'] == 'Ready' and c['status'] == 'False' and 'violates PodSecurity' in c.get('message', '') for c in conditions), conditions
    assert not cluster.get('pods', '-n', 'models', '-l', 'serving.kserve.io/inferenceservice=host-pid')['items']


def test_a_canary_in_standard_mode_gets_its_own_deployment_and_hpa_and_no_traffic_split(deployed):
    """What KServe v0.20 does with `spec.canary` in Standard mode, as the construct documents it."""
    [(key, made)] = [(k, m) for k, m in deployed['standalone'].items() if m['isvc']['spec'].get('canary')]
    name = made['isvc']['metadata']['name']
    canary = made['isvc']['spec']['canary'][0]
    cname = f'{name}-{canary["predictor"]["name"]}-predictor'
    selected = {}
    for sname, service in made['services'].items():
        selector = service['spec'].get('selector') or {}
        selected[sname] = sorted(p['metadata']['name'] for p in made['pods'] if all(p['metadata']['labels'].get(k) == v for k, v in selector.items()))
    hpas = {n: (h['spec']['minReplicas'], h['spec']['maxReplicas']) for n, h in made['hpa'].items()}
    report(f'KServe canary (Standard mode) {key}: deployments {sorted(made["deployments"])}, services {sorted(made["services"])}, '
           f'HPAs (min, max) {hpas}, pods each service selects {json.dumps(selected)}; trafficPercent {canary["trafficPercent"]}')
    ours = lambda objects: {n for n in objects if n.startswith(f'{name}-')}  # noqa: E731
    assert ours(made['deployments']) == ours(made['services']) == {f'{name}-predictor', cname}
    assert hpas[cname] == (1, 1), hpas
    canary_pods = [p['metadata']['name'] for p in made['pods'] if p['metadata']['name'].startswith(f'{cname}-')]
    assert len(canary_pods) == 1
    # No traffic split in Standard mode: the model's Service selects only the stable pods, and the
    # canary answers only at its own Service, whatever trafficPercent says.
    assert selected[cname] == canary_pods
    assert selected[f'{name}-predictor'] and not set(selected[f'{name}-predictor']) & set(canary_pods)
