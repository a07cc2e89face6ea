/** Reading a saved run for `diff`, history and notifications: a scan result (later also an audit) as a DriftRun. */
import { driftRunOf, type DriftRun } from '../conformance/drift.js';
import { parseResultText } from '../report/parse-result.js';
import { readResult } from './report-command.js';

export async function readRunFile(file: string): Promise<DriftRun> {
  return driftRunOf(parseResultText(await readResult(file), file));
}
