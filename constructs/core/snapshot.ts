import { Chart } from 'cdk8s';
import { stringify } from 'yaml';

/**
 * Turns Kubernetes objects into stable YAML documents for `toMatchSnapshot()`.
 *
 * What changes between two synths of the same code is replaced by a fixed marker: CDK token
 * numbers (`${Token[TOKEN.123]}` depend on construction order), asset hashes, and unresolved
 * CloudFormation references. Keys are sorted, so a snapshot diff shows only real changes.
 */
export class ManifestSnapshot {
  /** The objects of a cdk8s chart as normalised YAML documents, in emission order. */
  public static ofChart(chart: Chart): string[] {
    return ManifestSnapshot.ofObjects(chart.toJson());
  }

  /** Any Kubernetes objects as normalised YAML documents. */
  public static ofObjects(objects: any[]): string[] {
    return objects.map(o => ManifestSnapshot.normalize(stringify(o, { sortMapEntries: true, lineWidth: 0 })));
  }

  /** Replaces the volatile parts of a rendered document with fixed markers. */
  public static normalize(text: string): string {
    return text
      .replace(/\$\{Token\[[^\]]+\]\}/g, '${Token}')
      .replace(/\b[0-9a-f]{64}\b/g, '<asset-hash>');
  }
}
