// Baseline for scripts/bench-synth.sh: an empty Stack through the same toolchain as bin/app.ts.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'EmptyStack');
app.synth();
