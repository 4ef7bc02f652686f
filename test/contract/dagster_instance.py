"""Run inside .venv-dagster (the pinned Dagster): checks a rendered dagster.yaml with Dagster's own code.

usage: dagster_instance.py validate DAGSTER_HOME     -> loads the instance config and validates every
       configurable class in it (storage, run coordinator, K8sRunLauncher, S3ComputeLogManager) against
       that class's config schema; prints JSON, exits 1 on the first invalid section
usage: dagster_instance.py run-job DAGSTER_HOME IMAGE -> the Kubernetes Job dagster-k8s would create for
       a run with this configuration, as JSON
usage: dagster_instance.py storage-dir DAGSTER_HOME POD_DAGSTER_HOME -> where Dagster's own instance
       reference puts local artifacts (the default fs_io_manager's outputs) in a pod whose DAGSTER_HOME
       is POD_DAGSTER_HOME, as JSON
usage: dagster_instance.py launch DAGSTER_HOME IMAGE KUBECONFIG TAGS_JSON -> launches one run with these
       tags through the real K8sRunLauncher of this configuration, against the API server KUBECONFIG
       names (which creates the Job); prints {"job": ...} as created, or {"refused": message}
"""
import importlib
import json
import sys

import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData


def validate(home):
    config, _ = dagster_instance_config(home)
    checked = {}
    for section in ('run_coordinator', 'run_launcher', 'compute_logs'):
        data = ConfigurableClassData(config[section]['module'], config[section]['class'], yaml.safe_dump(config[section].get('config', {})))
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        result = process_config(klass.config_type(), config[section].get('config', {}))
        if not result.success:
            print(json.dumps({'section': section, 'errors': [e.message for e in result.errors]}))
            sys.exit(1)
        checked[section] = data.class_name
    from dagster_postgres import PostgresRunStorage
    storage = process_config(PostgresRunStorage.config_type(), config['storage']['postgres'])
    if not storage.success:
        print(json.dumps({'section': 'storage', 'errors': [e.message for e in storage.errors]}))
        sys.exit(1)
    checked['storage'] = 'postgres'
    print(json.dumps(checked))


def run_job(home, image):
    from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
    from dagster_k8s.launcher import K8sRunLauncher
    from kubernetes import client
    config, _ = dagster_instance_config(home)
    c = process_config(K8sRunLauncher.config_type(), config['run_launcher']['config']).value
    job_config = DagsterK8sJobConfig(
        job_image=image, dagster_home=c['dagster_home'], image_pull_policy=c['image_pull_policy'],
        instance_config_map=c['instance_config_map'], env_secrets=c['env_secrets'], env_vars=c['env_vars'],
        volume_mounts=c['volume_mounts'], volumes=c['volumes'], labels=c['labels'], resources=c['resources'],
        security_context=c['security_context'], service_account_name=c['service_account_name'])
    job = construct_dagster_k8s_job(job_config, ['dagster', 'api', 'execute_run', '{}'], 'dagster-run-contract',
                                    user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(c['run_k8s_config']),
                                    component='run_worker')
    body = client.ApiClient().sanitize_for_serialization(job)
    body.update({'apiVersion': 'batch/v1', 'kind': 'Job'})
    body['metadata']['namespace'] = c['job_namespace']
    print(json.dumps(body))


def storage_dir(home, pod_home):
    from dagster._core.instance.ref import InstanceRef
    ref = InstanceRef.from_dir(pod_home, config_dir=home)
    print(json.dumps({'storage_dir': ref.local_artifact_storage.storage_dir}))


def launch(home, image, kubeconfig, tags):
    import os
    import tempfile
    import uuid
    from dagster import DagsterInstance
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster_k8s.launcher import K8sRunLauncher
    from kubernetes import client
    config, _ = dagster_instance_config(home)
    c = process_config(K8sRunLauncher.config_type(), config['run_launcher']['config']).value
    # The same launcher, reaching the API server through a kubeconfig instead of its in-cluster token.
    launcher = K8sRunLauncher(**{**c, 'load_incluster_config': False, 'kubeconfig_file': kubeconfig})
    # The run's record: a throwaway instance (the stack's is PostgreSQL; the launcher only tags the run).
    instance = DagsterInstance.local_temp(tempfile.mkdtemp(prefix='contract-dagster-launch-'))
    launcher.register_instance(instance)
    origin = JobPythonOrigin('hello', RepositoryPythonOrigin(
        'python', ModuleCodePointer('contract_dagster_demo', 'defs', os.getcwd()), container_image=image))
    run = instance.add_run(DagsterRun(job_name='hello', run_id=str(uuid.uuid4()), tags=json.loads(tags), job_code_origin=origin))
    try:
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    except Exception as error:  # noqa: BLE001 (dagster-k8s raises a bare Exception for the allowlist)
        print(json.dumps({'refused': str(error)}))
        return
    name = f'dagster-run-{run.run_id}'
    job = client.BatchV1Api().read_namespaced_job(name, c['job_namespace'])
    print(json.dumps({'job': client.ApiClient().sanitize_for_serialization(job)}))


if __name__ == '__main__':
    {'validate': lambda: validate(sys.argv[2]), 'run-job': lambda: run_job(sys.argv[2], sys.argv[3]),
     'launch': lambda: launch(*sys.argv[2:6]), 'storage-dir': lambda: storage_dir(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
