// The jest config of `npm run test:mutation`: the suite minus the manifest snapshots, so a mutant
// only counts as killed when an assertion catches it, and minus the jsii checks, which read the
// assembly `npm run build` wrote for the unmutated source. Stryker runs one jest per worker, in band.
const base = require('./jest.config');

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', '/test/snapshot\\.test\\.ts$', '/test/jsii\\.test\\.ts$'], maxWorkers: 1 };
