// Jest globalSetup/globalTeardown: every temporary folder of a test run (ours, the cloud
// assemblies aws-cdk-lib writes for apps without an outdir, the validators' inputs) goes under one
// folder, removed at the end. Set here, in jest's parent process, TMPDIR reaches every worker.
// Without it a run leaves over a gigabyte in the system temp dir.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mlops-test-'));
  process.env.CDK_MLOPS_TEMP_ROOT = root;
  process.env.TMPDIR = root;
};

module.exports.teardown = async function teardown() {
  const root = process.env.CDK_MLOPS_TEMP_ROOT;
  if (root) fs.rmSync(root, { recursive: true, force: true });
};
