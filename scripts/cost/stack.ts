import { App } from 'aws-cdk-lib';
import { KubernetesManifests, MlopsStack, StackProfile } from '../../lib';
import { CDK_JSON_CONTEXT, tempDir } from '../../test/support/synth';
import { renderHelmReleases } from '../../test/support/helm';

/**
 * What the estimate prices: the reference stack with one model served from MLflow's registry, its
 * drift check and Evidently's UI (the smallest stack that runs every component).
 */
export function costedStack(profile: StackProfile): { template: any; objects: any[] } {
  const app = new App({ outdir: tempDir(`cost-${profile}`), context: CDK_JSON_CONTEXT });
  const stack = new MlopsStack(app, 'MlopsStack', {
    profile,
    evidently: { ui: true },
    kserve: {
      models: [{
        name: 'churn',
        mlflowModelVersion: { name: 'churn', version: '1', runId: 'run', artifactUri: 'mlflow-artifacts:/1/models/m-1/artifacts' },
        driftCheck: { features: ['tenure', 'charges'] },
      }],
    },
  });
  const template = app.synth().getStackByName(stack.stackName).template;
  const objects = [
    ...KubernetesManifests.fromTemplate(template).map(o => o.object),
    ...renderHelmReleases(template).flatMap(r => r.objects),
  ];
  return { template, objects };
}
