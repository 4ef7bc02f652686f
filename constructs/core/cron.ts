import { IConstruct } from 'constructs';
import { InvalidPropError, isUnresolved } from './errors';

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Each field of a standard five-field schedule: name, range, and the names it also accepts. */
const FIELDS: { name: string; min: number; max: number; names?: string[]; first?: number }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, first: 1 },
  // 7 is Sunday too, as in the Kubernetes CronJob controller's parser.
  { name: 'day of week', min: 0, max: 7, names: DAYS, first: 0 },
];

function value(field: typeof FIELDS[number], text: string): number | undefined {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + field.first!;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

/** Why one field is wrong, or undefined when it is a valid list of values, ranges and steps. */
function fieldError(field: typeof FIELDS[number], text: string): string | undefined {
  for (const part of text.split(',')) {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined || (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))) {
      return `${field.name} "${part}": a step must be a whole number greater than 0`;
    }
    if (range === '*' || range === '?') continue;
    const [from, to, more] = range.split('-');
    const a = value(field, from);
    const b = to === undefined ? a : value(field, to);
    if (more !== undefined || a === undefined || b === undefined || a > b) {
      return `${field.name} "${part}": values ${field.min}-${field.max}${field.names ? ' or names' : ''}, as n, n-m, */s or n-m/s`;
    }
  }
  return undefined;
}

/**
 * Throws unless `schedule` is a schedule the Kubernetes CronJob controller accepts: five fields
 * (minute, hour, day of month, month, day of week) or a macro such as `@hourly`.
 */
export function assertCronSchedule(scope: IConstruct | string, prop: string, schedule: string): void {
  if (isUnresolved(schedule)) return;
  const allowed = 'allowed: five fields "minute hour day-of-month month day-of-week" (e.g. "*/15 * * * *") '
    + `or one of ${MACROS.join(', ')}; time zones go in the timeZone field, not the schedule`;
  if (MACROS.includes(schedule.trim())) return;
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) throw new InvalidPropError(scope, prop, schedule, allowed);
  for (const [i, text] of fields.entries()) {
    const error = fieldError(FIELDS[i], text);
    if (error) throw new InvalidPropError(scope, prop, schedule, `${error}; ${allowed}`);
  }
}
