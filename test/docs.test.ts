import * as fs from 'fs';
import * as path from 'path';
import { profileTable, README, readmeTable } from '../scripts/docs/profile-table';
import { ROOT } from './support/tools';

/** Every Markdown file a reader is sent to: the README, CONTRIBUTING and docs/ (not the generated API reference). */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    (e.isDirectory() ? (e.name === 'api' ? [] : walk(path.join(dir, e.name))) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : []));
  return [path.join(ROOT, 'README.md'), path.join(ROOT, 'CONTRIBUTING.md'), ...walk(path.join(ROOT, 'docs'))];
}

/** GitHub's anchor of a heading: lowercase, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

/** The relative links of a Markdown text outside code blocks, as [target, fragment]. */
function links(text: string): Array<[string, string | undefined]> {
  const prose = text.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]).filter(t => !/^[a-z]+:/.test(t))
    .map(t => { const [file, fragment] = t.split('#'); return [file, fragment]; });
}

describe('the docs', () => {
  test.each(markdownFiles().map(f => [path.relative(ROOT, f), f]))('every link of %s reaches a file and heading that exist', (_, file) => {
    const broken: string[] = [];
    for (const [target, fragment] of links(fs.readFileSync(file, 'utf8'))) {
      const resolved = target ? path.resolve(path.dirname(file), target) : file;
      if (!fs.existsSync(resolved)) { broken.push(`${target}: no such file`); continue; }
      if (fragment && resolved.endsWith('.md')) {
        const headings = [...fs.readFileSync(resolved, 'utf8').replace(/```[\s\S]*?```/g, '').matchAll(/^#+ (.*)$/gm)].map(m => anchor(m[1]));
        if (!headings.includes(fragment)) broken.push(`${target}#${fragment}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('the link check finds a broken link and a missing heading', () => {
    expect(links('see [a](missing.md) and [b](README.md#nowhere) and [c](https://example.com)\n```\n[d](x.md)\n```'))
      .toEqual([['missing.md', undefined], ['README.md', 'nowhere']]);
    expect(anchor('`MlflowOnAws` (lib/mlflow/) and `MlflowServer`')).toBe('mlflowonaws-libmlflow-and-mlflowserver');
  });

  test('every page under docs/ is reachable from the README or another page', () => {
    const linked = new Set(markdownFiles().flatMap(f => links(fs.readFileSync(f, 'utf8')).map(([t]) => path.resolve(path.dirname(f), t))));
    const orphans = markdownFiles().filter(f => f !== README && !linked.has(f)).map(f => path.relative(ROOT, f));
    expect(orphans).toEqual([]);
  });

  test('the README is one a user reads to the end: at most 300 lines', () => {
    expect(fs.readFileSync(README, 'utf8').split('\n').length).toBeLessThanOrEqual(300);
  });

  test('the README\'s profile table is the one the defaults tables give (run `npm run docs:profiles`)', () => {
    expect(readmeTable(fs.readFileSync(README, 'utf8'))).toBe(profileTable());
  });
});
