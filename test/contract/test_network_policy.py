"""Who can connect to whom under the stack's NetworkPolicies, decided by cyclonus's matcher.

EKS Auto Mode enforces these policies on the stack's node pool (test/mlops-stack.test.ts checks that
it is configured); this checks what they say, with an implementation of the Kubernetes
NetworkPolicy semantics that is not ours (test/contract/netpol, built from the Go module proxy).
Namespace labels are what the API server sets: `kubernetes.io/metadata.name` is the namespace's
name, whatever a namespace creator asks for (test_access_control shows the API server enforcing it).
"""
import copy
import ipaddress
import json
import os
import subprocess

import pytest

import k8s

NETPOL = os.path.join(os.path.dirname(__file__), 'netpol')
CLIENT = {'mlflow.cdk-mlops-stack.io/client': 'true'}
MLFLOW_POD = {'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow'}
WEBHOOK_POD = {'app.kubernetes.io/name': 'external-secrets-webhook', 'app.kubernetes.io/instance': 'external-secrets'}
CONTROLLER_POD = {'app.kubernetes.io/name': 'external-secrets', 'app.kubernetes.io/instance': 'external-secrets'}


def verdicts(policies, traffic):
    result = subprocess.run(['go', 'run', '.'], cwd=NETPOL, input=json.dumps({'policies': policies, 'traffic': traffic}),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return [v['allowed'] for v in json.loads(result.stdout)]


def pod(namespace, labels=None, ip='10.0.64.10'):
    return {'Internal': {'PodLabels': labels or {}, 'Namespace': namespace,
                         'NamespaceLabels': {'kubernetes.io/metadata.name': namespace}}, 'IP': ip}


def outside(ip):
    return {'IP': ip}


def to(source, destination, port):
    return {'Source': source, 'Destination': destination, 'Protocol': 'TCP', 'ResolvedPort': port, 'ResolvedPortName': ''}


@pytest.fixture(scope='module')
def network():
    return k8s.load_objects('network.json')


def to_mlflow(source):
    return to(source, pod('mlflow', MLFLOW_POD), 5000)


def test_only_labelled_pods_of_mlflow_s_own_namespace_reach_it(network):
    cases = [
        (pod('mlflow', CLIENT), True),
        (pod('mlflow', {'app': 'anything'}), False),
        (pod('default', CLIENT), False),  # the label alone no longer admits a pod from anywhere
        (pod('team-a', CLIENT), False),
        (outside('10.0.64.20'), False),
    ]
    assert verdicts(network['reference'], [to_mlflow(s) for s, _ in cases]) == [e for _, e in cases]


def test_the_policy_before_the_review_admitted_any_namespace(network):
    """The check above can fail: MLflow's old rule (namespaceSelector {} plus the label) admits team-a."""
    old = copy.deepcopy(network['reference'])
    mlflow = next(p for p in old if p['metadata']['name'] == 'mlflow')
    mlflow['spec']['ingress'][0]['from'] = [{'namespaceSelector': {}, 'podSelector': {'matchLabels': CLIENT}}]
    assert verdicts(old, [to_mlflow(pod('team-a', CLIENT))]) == [True]


def test_client_namespaces_and_the_load_balancer_subnets_are_admitted_and_nothing_else(network):
    public = [ipaddress.ip_network(c) for c in network['subnets']['public']]
    private = [ipaddress.ip_network(c) for c in network['subnets']['private']]
    cases = [
        (pod('training', CLIENT), True),
        (pod('training'), False),
        (pod('default', CLIENT), False),
        *[(outside(str(net[10])), True) for net in public],  # the ALB's addresses
        *[(outside(str(net[10])), False) for net in private],  # pod addresses, as seen from outside the model
        (outside('203.0.113.7'), False),
    ]
    assert verdicts(network['exposed'], [to_mlflow(s) for s, _ in cases]) == [e for _, e in cases]


def test_every_other_port_and_pod_of_a_component_namespace_is_closed(network):
    cases = [
        (to(pod('default'), pod('mlflow', MLFLOW_POD), 8080), False),
        (to(pod('mlflow', CLIENT), pod('mlflow', {'app': 'other'}), 5000), False),
        (to(outside('10.0.0.5'), pod('external-secrets', WEBHOOK_POD), 10250), True),  # the API server's webhook calls
        (to(outside('10.0.0.5'), pod('external-secrets', WEBHOOK_POD), 8080), False),
        (to(pod('default'), pod('external-secrets', CONTROLLER_POD), 8080), False),
        (to(pod('default'), pod('external-secrets', CONTROLLER_POD), 10250), False),
    ]
    assert verdicts(network['reference'], [t for t, _ in cases]) == [e for _, e in cases]


FEAST_CLIENT = {'feast.cdk-mlops-stack.io/client': 'true'}
FEAST_POD = {'app.kubernetes.io/name': 'feast', 'app.kubernetes.io/instance': 'feast'}


def test_only_labelled_pods_of_feast_s_namespace_reach_the_feature_server(network):
    server = pod('feast', FEAST_POD)
    cases = [
        (to(pod('feast', FEAST_CLIENT), server, 6566), True),
        (to(pod('feast', {'app': 'notebook'}), server, 6566), False),
        (to(pod('training', FEAST_CLIENT), server, 6566), False),  # not a client namespace by default
        (to(pod('feast', FEAST_CLIENT), server, 8080), False),
        (to(outside('10.0.64.20'), server, 6566), False),
    ]
    assert verdicts(network['reference'], [t for t, _ in cases]) == [e for _, e in cases]


def test_the_in_cluster_redis_admits_the_feast_pods_and_nothing_else(network):
    """With the pod labels the synthesized Feast Deployment and CronJob give their pods."""
    objects = k8s.load_objects('feast-standalone.json')
    labels = {o['kind']: (o['spec']['jobTemplate']['spec'] if o['kind'] == 'CronJob' else o['spec'])['template']['metadata']['labels']
              for o in objects if o['kind'] in ('Deployment', 'CronJob') and o['metadata']['name'].startswith('feast')}
    redis_set = next(o for o in objects if o['kind'] == 'StatefulSet')
    redis = pod('feast', redis_set['spec']['template']['metadata']['labels'])
    cases = [
        (to(pod('feast', labels['Deployment']), redis, 6379), True),
        (to(pod('feast', labels['CronJob']), redis, 6379), True),
        (to(pod('feast', {'app': 'notebook'}), redis, 6379), False),
        (to(pod('training', labels['Deployment']), redis, 6379), False),
        (to(pod('feast', labels['Deployment']), redis, 16379), False),
    ]
    assert verdicts(network['feastStandalone'], [t for t, _ in cases]) == [e for _, e in cases]


def test_dagster_code_servers_admit_the_webserver_daemon_and_run_pods_only():
    """With the labels the synthesized Deployments give their pods, and those dagster.yaml gives run pods."""
    import yaml
    objects = k8s.load_objects('dagster.json')
    policies = [o for o in objects if o['kind'] == 'NetworkPolicy']
    labels = {o['metadata']['name']: o['spec']['template']['metadata']['labels'] for o in objects if o['kind'] == 'Deployment'}
    instance = yaml.safe_load(next(o for o in objects if o['metadata']['name'] == 'dagster-instance')['data']['dagster.yaml'])
    run = instance['run_launcher']['config']['labels']
    code = pod('dagster', labels['dagster-demo'])
    cases = [
        (to(pod('dagster', labels['dagster-webserver']), code, 3030), True),
        (to(pod('dagster', labels['dagster-daemon']), code, 3030), True),
        (to(pod('dagster', run), code, 3030), True),
        (to(pod('dagster', {'app': 'notebook'}), code, 3030), False),
        (to(pod('training', labels['dagster-daemon']), code, 3030), False),  # a pod selector alone means the policy's namespace
        (to(pod('dagster', labels['dagster-daemon']), code, 8080), False),
        (to(pod('dagster', {'dagster.cdk-mlops-stack.io/client': 'true'}), pod('dagster', labels['dagster-webserver']), 3000), True),
        (to(pod('training', {'dagster.cdk-mlops-stack.io/client': 'true'}), pod('dagster', labels['dagster-webserver']), 3000), False),
    ]
    assert verdicts(policies, [t for t, _ in cases]) == [e for _, e in cases]


MODEL_CLIENT = {'models.cdk-mlops-stack.io/client': 'true'}


def test_with_a_payload_logger_clients_reach_only_the_agent_so_no_prediction_escapes_the_logs():
    """The reference stack's model (kserve.json) with the labels KServe's controller gives its pods:
    a client reaches the logger agent's port and not the model server's, which the agent forwards to."""
    data = k8s.load_objects('kserve.json')
    policies = [o for o in data['models'] if o['kind'] == 'NetworkPolicy']
    [isvc] = [o for o in data['models'] if o['kind'] == 'InferenceService']
    assert isvc['spec']['predictor'].get('logger'), 'the stack logs payloads by default'
    model = pod(isvc['metadata']['namespace'], {'serving.kserve.io/inferenceservice': isvc['metadata']['name'], 'component': 'predictor'})
    namespace = isvc['metadata']['namespace']
    cases = [
        (to(pod(namespace, MODEL_CLIENT), model, 9081), True),
        (to(pod(namespace, MODEL_CLIENT), model, 8080), False),
        (to(pod(namespace, {'app': 'notebook'}), model, 9081), False),
        (to(pod('training', MODEL_CLIENT), model, 9081), False),
    ]
    assert verdicts(policies, [t for t, _ in cases]) == [e for _, e in cases]


def test_client_namespaces_reach_the_read_only_dagster_webserver_and_only_operators_the_one_that_launches():
    """The standalone example's Dagster: clients in ml-platform (a client namespace) may look, not launch."""
    objects = [o for o in k8s.load_objects('apiserver.json')['standalone'] if o['metadata'].get('namespace') == 'orchestration']
    policies = [o for o in objects if o['kind'] == 'NetworkPolicy']
    labels = {o['metadata']['name']: o['spec']['template']['metadata']['labels'] for o in objects if o['kind'] == 'Deployment'}
    client = {'dagster.cdk-mlops-stack.io/client': 'true'}
    webserver, read_only = pod('orchestration', labels['dagster-webserver']), pod('orchestration', labels['dagster-read-only'])
    cases = [
        (to(pod('ml-platform', client), read_only, 3000), True),
        (to(pod('ml-platform', client), webserver, 3000), False),
        (to(pod('orchestration', client), webserver, 3000), True),
        (to(pod('orchestration', client), read_only, 3000), True),
        (to(pod('ml-platform'), read_only, 3000), False),
    ]
    assert verdicts(policies, [t for t, _ in cases]) == [e for _, e in cases]
