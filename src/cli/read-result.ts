/** The text of a saved result file (report, merge, diff, a scan's previous run), with the message that says what to pass instead. */
import { readInputText } from '../util/read-input.js';

export function readResult(file: string): Promise<string> {
  return readInputText(file, { label: file, code: 'E_RESULT', hint: 'pass a result written by "portmatrix scan --format json --output FILE"' });
}
