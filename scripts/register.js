// Transpile-only loader for `cdk synth`: compiles each .ts file with swc as Node requires it.
// Unlike ts-node it does not load the TypeScript compiler, which keeps synth fast; types are
// checked once, by `npm run typecheck` (part of npm test).
const fs = require('fs');
const { transformSync } = require('@swc/core');

const options = (filename) => ({
  filename,
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', keepClassNames: true },
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), options(filename));
  module._compile(code, filename);
};
