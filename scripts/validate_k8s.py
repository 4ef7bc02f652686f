#!/usr/bin/env python3
"""Validates Kubernetes objects strictly, offline, the way the API server would admit them.

Built-in kinds are checked against the Kubernetes OpenAPI schemas shipped by kubernetes-validate
(strict variant: unknown fields fail). Custom resources are checked against the
`openAPIV3Schema` of their CRD, made strict the same way the API server's strict field
validation is: an object schema that lists properties rejects any other property unless it says
`x-kubernetes-preserve-unknown-fields`. Their `metadata` is checked against the built-in
ObjectMeta. A kind that is neither built in nor described by a given CRD is an error.

Input: JSON files, each a list of {"source": str, "object": {...}}. CRDs among the objects describe
the custom resources beside them too (a chart that installs a CRD and uses it).
Output (stdout): JSON {"validated": N, "failures": [{"source", "kind", "name", "errors": [...]}]}.
Exit code: 0 when every object is valid, 1 otherwise, 2 on bad usage.
"""
import argparse
import glob
import json
import os
import re
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

# libyaml's loader parses the large CRDs about ten times faster than the pure-Python one.
SafeLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'


def strict_schema(node):
    """Translates a CRD structural schema (OpenAPI v3 subset) into strict JSON Schema."""
    if isinstance(node, list):
        return [strict_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict_schema(v) for k, v in node.items()
           if not k.startswith('x-kubernetes-') and k != 'nullable'}
    if node.get('x-kubernetes-int-or-string'):
        out.pop('type', None)
        out['anyOf'] = [{'type': 'integer'}, {'type': 'string'}]
    if node.get('nullable') and 'type' in out:
        out['type'] = [out['type'], 'null']
    preserve = node.get('x-kubernetes-preserve-unknown-fields')
    if node.get('type') == 'object' and 'properties' in node and 'additionalProperties' not in node and not preserve:
        out['additionalProperties'] = False
    return out


def add_crd(schemas, doc):
    """Adds the strict schema of every served version of one CRD to `schemas`."""
    if not isinstance(doc, dict) or doc.get('kind') != 'CustomResourceDefinition':
        return
    spec = doc['spec']
    for version in spec['versions']:
        if not version.get('served'):
            continue
        schema = strict_schema(version['schema']['openAPIV3Schema'])
        props = schema.setdefault('properties', {})
        props['metadata'] = {'$ref': f'https://kubernetes.io/api/_definitions.json#/$defs/{OBJECT_META}'}
        schema['additionalProperties'] = False
        schema.setdefault('required', [])
        for key in ('apiVersion', 'kind', 'metadata'):
            if key not in schema['required']:
                schema['required'].append(key)
        api_version = f"{spec['group']}/{version['name']}"
        schemas[(api_version, spec['names']['kind'])] = schema


def load_crds(crd_dirs):
    """Maps (apiVersion, kind) of every served CRD version to its strict schema."""
    schemas = {}
    for crd_dir in crd_dirs:
        files = sorted(glob.glob(os.path.join(crd_dir, '**', '*.yaml'), recursive=True))
        if not files:
            raise SystemExit(f'validate_k8s: no CRD files under {crd_dir}')
        for path in files:
            for doc in yaml.load_all(open(path), Loader=SafeLoader):
                add_crd(schemas, doc)
    return schemas


def definitions_registry(version):
    strict_dir = f'kubernetes-json-schema/v{version}-local-strict'
    defs = kv_utils.schema_contents(f'{strict_dir}/_definitions.json', version)
    return Resource.from_contents(defs) @ Registry()


def describe(error):
    path = '.'.join(str(p) for p in error.absolute_path) or '(root)'
    return f'{path}: {error.message[:300]}'


def builtin_schema(obj, version):
    """The strict schema kubernetes-validate ships for a built-in kind, or None."""
    # kubernetes-validate names files <kind>-<group without domain>-<version>.json
    api_version = re.sub(r'^([^./]*)(?:\.[^/]*)?/', r'\1-', obj['apiVersion'])
    name = f'kubernetes-json-schema/v{version}-local-strict/{obj["kind"].lower()}-{api_version}.json'
    try:
        return kv_utils.schema_contents(name, version)
    except FileNotFoundError:
        return None


def validate_object(obj, version, crds, registry):
    if not isinstance(obj, dict) or 'apiVersion' not in obj or 'kind' not in obj:
        return ['not a Kubernetes object (apiVersion and kind are required)']
    schema = crds.get((obj['apiVersion'], obj['kind'])) or builtin_schema(obj, version)
    if schema is None:
        return [f'unknown kind {obj["kind"]} in {obj["apiVersion"]}: not built into Kubernetes {version} '
                'and not described by any given CRD']
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    return [describe(e) for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--kubernetes-version', required=True, help='e.g. 1.35.0')
    parser.add_argument('--crds', action='append', default=[], help='folder of CRD YAML files (repeatable)')
    parser.add_argument('inputs', nargs='+')
    args = parser.parse_args()

    crds = load_crds(args.crds)
    entries = [(path, entry) for path in args.inputs for entry in json.load(open(path))]
    # A CRD among the inputs (from a chart that installs it) serves the objects beside it, as it
    # would once the API server has it; the CRD itself is validated as a built-in kind below.
    for _, entry in entries:
        add_crd(crds, entry.get('object'))
    registry = definitions_registry(args.kubernetes_version)
    validated, failures = 0, []
    for path, entry in entries:
        obj = entry['object']
        errors = validate_object(obj, args.kubernetes_version, crds, registry)
        validated += 1
        if errors:
            failures.append({
                'source': entry.get('source', path),
                'kind': obj.get('kind') if isinstance(obj, dict) else None,
                'name': (obj.get('metadata') or {}).get('name') if isinstance(obj, dict) else None,
                'errors': errors,
            })
    json.dump({'validated': validated, 'failures': failures}, sys.stdout, indent=1)
    sys.stdout.write('\n')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
