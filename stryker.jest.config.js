// The jest config of `npm run test:mutation`: the suite minus the manifest snapshots, so a mutant
// only counts as killed when an assertion catches it. Stryker runs one jest per worker, in band.
const base = require('./jest.config');

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', '/test/snapshot\\.test\\.ts$'], maxWorkers: 1 };
