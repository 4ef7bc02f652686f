import * as fs from 'fs';
import * as path from 'path';
import { PROFILES, synthReference, tempDir } from './support/synth';
import { cfnLint } from './support/tools';

function templatesIn(outdir: string): string[] {
  return fs.readdirSync(outdir).filter(f => f.endsWith('.template.json')).map(f => path.join(outdir, f));
}

describe.each(PROFILES)('cfn-lint on the %s reference stack', profile => {
  test('every synthesized template lints clean (no errors, no unlisted warnings)', () => {
    const templates = templatesIn(synthReference(profile).outdir);
    expect(templates.length).toBeGreaterThan(0);
    const result = cfnLint(templates);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});

test('cfn-lint rejects a broken template, so the check above can fail', () => {
  const file = path.join(tempDir('cfn-lint'), 'broken.template.json');
  fs.writeFileSync(file, JSON.stringify({
    Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Sometimes' } } } },
  }));
  const result = cfnLint([file]);
  expect(result.status & 2).toBe(2); // bit 2: errors
  expect(result.output).toMatch(/E3030|Sometimes/);
});
