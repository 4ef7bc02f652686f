import * as path from 'path';
import { podSpecsOf } from './support/pod-security';
import { stackObjects, standaloneCharts } from './support/objects';
import { SourcedObject } from './support/tools';

// A read-only root file system leaves a program only its writable volumes: wherever it is told
// to write (home, temp and cache folders) must be one of them, or it fails on its first write.
// (DAGSTER_HOME is where Dagster reads its instance config; where it writes is test_dagster.py's check.)
const WRITE_ENV = ['HOME', 'TMPDIR', 'TMP', 'TEMP', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'MPLCONFIGDIR', 'PIP_CACHE_DIR'];
const WRITABLE_VOLUMES = ['emptyDir', 'ephemeral', 'persistentVolumeClaim'];

const objects: SourcedObject[] = [...stackObjects().flatMap(p => [...p.manifests, ...p.charts]), ...standaloneCharts()];
const readOnlyContainers = objects.flatMap(({ source, object }) => podSpecsOf(object).flatMap(pod =>
  [...(pod.initContainers ?? []), ...pod.containers]
    .filter((c: any) => c.securityContext?.readOnlyRootFilesystem === true)
    .map((c: any) => ({ where: `${source} ${object.kind}/${object.metadata.name} ${c.name}`, pod, container: c }))));

function writableMounts(pod: any, container: any): string[] {
  const writable = new Set((pod.volumes ?? []).filter((v: any) => WRITABLE_VOLUMES.some(t => t in v)).map((v: any) => v.name));
  return (container.volumeMounts ?? []).filter((m: any) => writable.has(m.name) && !m.readOnly).map((m: any) => m.mountPath);
}

const under = (dir: string, mount: string) => dir === mount || dir.startsWith(mount.endsWith('/') ? mount : `${mount}/`);

test('the objects hold read-only containers of our own charts and of the upstream ones', () => {
  expect(readOnlyContainers.length).toBeGreaterThan(20);
  expect(readOnlyContainers.some(c => /feast/.test(c.where))).toBe(true);
  expect(readOnlyContainers.some(c => /helm/.test(c.where))).toBe(true);
});

test('every folder a read-only container is told to write to is a writable volume mounted there', () => {
  const wrong: string[] = [];
  for (const { where, pod, container } of readOnlyContainers) {
    const mounts = writableMounts(pod, container);
    for (const mount of mounts) if (!path.isAbsolute(mount)) wrong.push(`${where}: writable volume mounted at "${mount}"`);
    for (const e of container.env ?? []) {
      if (!WRITE_ENV.includes(e.name) || e.value === undefined) continue;
      if (!path.isAbsolute(e.value) || !mounts.some(m => under(path.normalize(e.value), m))) {
        wrong.push(`${where}: ${e.name}=${e.value} is not under a writable mount (${mounts.join(', ') || 'none'})`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('the Python servers of the stack write only to their scratch volume', () => {
  // Feast, MLflow and Dagster set HOME and TMPDIR explicitly (their images default to folders in
  // the read-only image); each must point at a writable mount.
  const told = readOnlyContainers.filter(c => (c.container.env ?? []).some((e: any) => e.name === 'HOME'));
  expect(told.map(c => c.where).some(w => /feast/.test(w))).toBe(true);
  for (const { where, pod, container } of told) {
    const home = container.env.find((e: any) => e.name === 'HOME').value;
    expect({ where, home, writable: writableMounts(pod, container).some(m => under(home, m)) }).toEqual({ where, home, writable: true });
  }
});
