/**
 * `portmatrix check --nmap-xml scan.xml --matrix ...`: judges an existing nmap scan (-sT, -sS,
 * -sU) against a matrix with the same findings and reports as a live scan. Hosts nmap saw down
 * are listed, never judged, and make the exit code 3 (the scan could not see them).
 */
import type { Command } from 'commander';
import { PortmatrixError } from '../errors.js';
import { buildScanResult } from '../result/build.js';
import { parseNmapXml } from '../scan/nmap-xml.js';
import { planOutputs, writeReports } from '../output/reports.js';
import { attachConformance, conformanceExitCode, prepareConformance } from '../run/conformance-check.js';
import { toTerminalText } from '../util/untrusted-text.js';
import { addConformanceOptions, toConformanceRequest, type ConformanceFlags } from './conformance-options.js';
import { readInputText } from '../util/read-input.js';

interface CheckFlags extends ConformanceFlags {
  nmapXml?: string;
}

export function registerCheckCommand(program: Command): Command {
  const command = program
    .command('check')
    .description('judge an existing scan against a matrix without scanning: nmap XML (-sT, -sS, -sU; -oX) today')
    .requiredOption('--nmap-xml <file>', 'an nmap XML file (nmap -sT|-sS|-sU -p ... -oX FILE)');
  addConformanceOptions(command);
  command.addHelpText(
    'after',
    [
      '',
      'Every planned port gets a state: listed ports as nmap listed them, the rest from <extraports>.',
      'Hosts nmap saw down are reported and never judged (no "missing listener" for a host that was not there).',
      '',
      'Exit codes: 0 conformant at --fail-on, 1 findings at or above --fail-on, 2 bad input, 3 some host was down in the nmap scan.',
      '',
      'Example:',
      '  nmap -sT -p- -n -Pn -oX pbx1.xml 198.18.0.10',
      '  portmatrix check --nmap-xml pbx1.xml --matrix ip-office-9.1 --format markdown --output pbx1.md',
    ].join('\n'),
  );
  return command.action(async (flags: CheckFlags) => {
    const file = flags.nmapXml!;
    if (flags.matrix === undefined) {
      throw new PortmatrixError('E_USAGE', 'check: --matrix is required', { hint: 'name the port matrix to judge against, e.g. --matrix ip-office-9.1' });
    }
    const outputs = await planOutputs(flags.format, flags.output);
    const check = await prepareConformance(toConformanceRequest(flags)!);
    const nmap = parseNmapXml(await readNmapXml(file), file);
    if (nmap.hosts.length === 0 && nmap.downCount === 0) {
      throw new PortmatrixError('E_RESULT', `${file}: no host in the nmap scan`, { hint: 'pass the XML of a scan that reached at least one host' });
    }
    const result = attachConformance(
      check,
      buildScanResult({
        startedAt: new Date(nmap.startedAt),
        finishedAt: new Date(nmap.finishedAt),
        complete: nmap.complete,
        ...(nmap.complete ? {} : { incompleteReason: 'the nmap run did not finish' }),
        // nmap XML does not say where it ran from.
        vantage: { hostname: 'unknown (nmap XML)', sourceAddresses: [] },
        parameters: { command: 'check', source: 'nmap-xml', file, nmap: { ...nmap.scanner, scanTypes: nmap.scanTypes }, down: nmap.down },
        hosts: nmap.hosts,
      }),
    );
    const written = await writeReports(outputs, result, { stdout: process.stdout, env: process.env }, { summaryOnTerminal: true });
    for (const path of written) process.stderr.write(`wrote ${toTerminalText(path)}\n`);
    for (const host of nmap.down) process.stderr.write(`portmatrix: ${host.address} was down in the nmap scan (${host.reason}): not judged\n`);
    const unnamed = nmap.downCount - nmap.down.length;
    if (unnamed > 0) {
      process.stderr.write(`portmatrix: ${unnamed} host${unnamed === 1 ? ' was' : 's were'} down in the nmap scan (nmap names them only with -v): not judged\n`);
    }
    process.exitCode = nmap.downCount > 0 ? 3 : conformanceExitCode(result);
  });
}

function readNmapXml(file: string): Promise<string> {
  return readInputText(file, { label: `--nmap-xml ${file}`, code: 'E_RESULT', hint: 'pass the file nmap wrote with -oX' });
}
