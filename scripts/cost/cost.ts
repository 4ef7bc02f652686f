// npm run cost [-- --assume name=value ...]: the monthly bill of the reference stack per profile,
// priced from its synthesized template and the pods it runs (scripts/cost/model.ts).
import * as fs from 'fs';
import * as path from 'path';
import { StackProfile } from '../../lib';
import { DEFAULT_ASSUMPTIONS, withOverrides } from './assumptions';
import { CostEstimate, estimateCost } from './model';
import { PRICES_AS_OF } from './prices';
import { costedStack } from './stack';

/** One profile's estimate as a Markdown table, largest items first. */
export function costTable(profile: StackProfile, estimate: CostEstimate): string {
  const rows = [...estimate.lines].sort((a, b) => b.monthly - a.monthly)
    .map(l => `| ${l.item} | ${l.basis} | ${l.monthly.toFixed(2)} |`);
  return [`| \`${profile.toUpperCase()}\` | basis | USD / month |`, '| --- | --- | ---: |', ...rows,
    `| **total** | | **${estimate.total.toFixed(2)}** |`].join('\n');
}

export function estimates(overrides: string[] = []): Map<StackProfile, CostEstimate> {
  const assumptions = withOverrides(DEFAULT_ASSUMPTIONS, overrides);
  return new Map([StackProfile.DEVELOPMENT, StackProfile.PRODUCTION].map(profile => {
    const { template, objects } = costedStack(profile);
    return [profile, estimateCost(template, objects, assumptions)];
  }));
}

export const README = path.join(__dirname, '..', '..', 'README.md');
const BEGIN = '<!-- cost tables: written by npm run cost -- --write-readme -->';
const END = '<!-- end of cost tables -->';

/** Both profiles' tables with the default assumptions, between the README's markers. */
export function costSection(all: Map<StackProfile, CostEstimate>): string {
  return [BEGIN, ...[...all].map(([profile, estimate]) => costTable(profile, estimate)), END].join('\n\n');
}

/** The README's current section, between its markers. */
export function readmeCostSection(text: string): string | undefined {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start, end + END.length);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const overrides = args.flatMap((a, i) => (a === '--assume' ? [args[i + 1]] : []));
  const all = estimates(overrides);
  if (args.includes('--write-readme')) {
    if (overrides.length > 0) throw new Error('--write-readme writes the tables of the default assumptions; drop --assume');
    const text = fs.readFileSync(README, 'utf8');
    const current = readmeCostSection(text);
    if (!current) throw new Error(`README.md has no cost section between '${BEGIN}' and '${END}'`);
    fs.writeFileSync(README, text.replace(current, costSection(all)));
  }
  for (const [profile, estimate] of all) {
    console.log(`${costTable(profile, estimate)}\n`);
    if (estimate.unrequested.length > 0) console.log(`not placed (no request): ${estimate.unrequested.join('; ')}\n`);
  }
  console.log(`Prices: ${PRICES_AS_OF}, scripts/cost/prices.ts. Usage assumptions: scripts/cost/assumptions.ts (override with --assume name=value).`);
}
