/** The markdown summary of a durability run (one row per scenario). */
import type { ScenarioResult } from './scenario-runner';

export function summaryTable(profileName: string, results: readonly ScenarioResult[], totalSeconds: number): string {
  const rows = results.map((r) => `| ${r.name} | ${r.passed ? 'pass' : 'FAIL'} | ${r.written} | ${r.verified} | ${r.lost} | ${r.corrupt} | ${r.unavailableDuringFault} | ${r.healed} | ${r.belowFullStripeCount} | ${r.awaitingHealer.length} | ${r.seconds} |`);
  return [
    `Durability suite, profile ${profileName}, ${totalSeconds} s in total`,
    '',
    '| scenario | result | written | verified | lost | corrupt | unavailable during fault | healed | stripes below full redundancy after | checks awaiting healer | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
