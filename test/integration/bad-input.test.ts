/**
 * The bad-input corpus: every mistaken or hostile input a user or an attacker can hand the CLI
 * (fixtures/bad-input/, plus FIFOs, a socket and oversized sparse files made here) gives exactly
 * one line on stderr naming what and where, exit 2, no stack trace, nothing on stdout, and no
 * file created or changed. Each case runs the built CLI in its own empty folder; no case gets
 * as far as sending a probe (the only target ever named is on 127.0.0.0/8, and every case fails
 * before the scan starts). The cases run once, in beforeAll: all of them in one Node process
 * through runCli, except those that feed standard input, which get a process each.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.join(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'bin', 'portmatrix.js');
const HARNESS = path.join(REPO, 'test', 'helpers', 'run-cli-cases.mjs');
const BAD = path.join(REPO, 'fixtures', 'bad-input');
const RESULT = path.join(REPO, 'fixtures', 'results', 'ip-office-drift.json');
const OVER_BOUND = 16 * 1024 * 1024 + 1;

type Category = 'output' | 'input limits' | 'values' | 'targets' | 'policy' | 'matrix and result' | 'text' | 'usage';

interface Case {
  category: Category;
  args: string[];
  /** The whole stderr line. */
  message: RegExp;
  stdin?: string | Buffer;
}

/** $FIFO, $BIG, $SOCKET, $DIR are made in beforeAll; $BAD is fixtures/bad-input, $RESULT a saved result. */
const CASES: Case[] = [
  // Output paths: checked before anything is scanned or rendered.
  { category: 'output', args: ['report', '$RESULT', '--output', ''], message: /^portmatrix: cannot write --output : empty path \(name a file, e\.g\. --output audit\.json\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--format', 'json', '--output', 'nosuchdir/x.json'], message: /^portmatrix: cannot write --output nosuchdir\/x\.json: folder nosuchdir does not exist \(create it first, or choose another path\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--output', '.'], message: /^portmatrix: cannot write --output \.: it is a directory \(choose a writable file path\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--output', 'reports/'], message: /^portmatrix: cannot write --output reports\/: names a folder \(ends with \/\) \(name a file inside it, e\.g\. reports\/audit\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--output', '$SOCKET'], message: /^portmatrix: cannot write --output .*\/socket: it is a socket \(choose a writable file path\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--format', 'json,html'], message: /^portmatrix: --format json,html writes several reports: name a base file with --output \(e\.g\. --output audit writes audit\.json, audit\.html\)$/ },
  { category: 'output', args: ['report', '$RESULT', '--format', 'html,junit', '--output', 'nosuchdir/audit'], message: /^portmatrix: cannot write --output nosuchdir\/audit\.html: folder nosuchdir does not exist/ },
  { category: 'output', args: ['scan', '127.0.0.1', '--output', ''], message: /^portmatrix: cannot write --output : empty path/ },
  { category: 'output', args: ['scan', '127.0.0.1', '--format', 'json', '--output', 'nosuchdir/r.json'], message: /^portmatrix: cannot write --output nosuchdir\/r\.json: folder nosuchdir does not exist/ },
  { category: 'output', args: ['scan', '127.0.0.1', '--format', 'json', '--output', '/proc/pm.json'], message: /^portmatrix: cannot write --output \/proc\/pm\.json: folder \/proc does not take new files \(\w+\) \(choose a writable file path\)$/ },
  { category: 'output', args: ['scan', '127.0.0.1', '--output', '.'], message: /^portmatrix: cannot write --output \.: it is a directory/ },
  { category: 'output', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--format', 'json,junit', '--output', '$DIR/'], message: /^portmatrix: cannot write --output .*\/dir\/: names a folder/ },
  { category: 'output', args: ['matrix', 'import', '$BAD/import-empty.txt', '-o', 'nosuchdir/m.yaml'], message: /^portmatrix: .*import-empty\.txt: not a port matrix: / },

  // Input limits: regular files only, refused at once; at most 16 MiB.
  { category: 'input limits', args: ['matrix', 'validate', '$FIFO'], message: /^portmatrix: matrix ".*\/fifo" is a FIFO, not a regular file \(give the path of a regular file\)$/ },
  { category: 'input limits', args: ['matrix', 'validate', '/dev/null'], message: /^portmatrix: matrix "\/dev\/null" is a character device, not a regular file/ },
  { category: 'input limits', args: ['matrix', 'validate', '$DIR'], message: /^portmatrix: matrix ".*\/dir" is a directory, not a regular file/ },
  { category: 'input limits', args: ['matrix', 'validate', '$BIG'], message: /^portmatrix: matrix ".*\/big\.yaml": 16\.0 MiB, more than the 16\.0 MiB limit for input files \(.*\)$/ },
  { category: 'input limits', args: ['matrix', 'show', '$FIFO'], message: /^portmatrix: matrix ".*\/fifo" is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['scan', '127.0.0.1', '--matrix', '$FIFO'], message: /^portmatrix: matrix ".*\/fifo" is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['report', '$FIFO'], message: /^portmatrix: .*\/fifo is a FIFO, not a regular file \(give the path of a regular file\)$/ },
  { category: 'input limits', args: ['report', '/dev/zero'], message: /^portmatrix: \/dev\/zero is a character device, not a regular file/ },
  { category: 'input limits', args: ['report', '$BIG'], message: /^portmatrix: .*\/big\.yaml: 16\.0 MiB, more than the 16\.0 MiB limit for input files/ },
  { category: 'input limits', args: ['report', '$SOCKET'], message: /^portmatrix: .*\/socket is a socket, not a regular file/ },
  { category: 'input limits', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$FIFO'], message: /^portmatrix: policy file .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$BIG'], message: /^portmatrix: policy file .*\/big\.yaml: 16\.0 MiB, more than the 16\.0 MiB limit/ },
  { category: 'input limits', args: ['report', '$RESULT', '--policy', '$FIFO'], message: /^portmatrix: policy file .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['scan', '--targets-file', '$FIFO'], message: /^portmatrix: --targets-file .*\/fifo is a FIFO, not a regular file \(give a regular file, or - to read standard input\)$/ },
  { category: 'input limits', args: ['scan', '--targets-file', '/dev/null'], message: /^portmatrix: --targets-file \/dev\/null is a character device, not a regular file/ },
  { category: 'input limits', args: ['scan', '--targets-file', '$BIG'], message: /^portmatrix: --targets-file .*\/big\.yaml: 16\.0 MiB, more than the 16\.0 MiB limit/ },
  { category: 'input limits', args: ['scan', '--targets-file', '-'], stdin: Buffer.alloc(OVER_BOUND, 0x31), message: /^portmatrix: --targets-file -: more than 16\.0 MiB, more than the 16\.0 MiB limit for input files/ },
  { category: 'input limits', args: ['scan', '--targets-file', '-'], stdin: '# nothing but a comment\n', message: /^portmatrix: no targets given \(name at least one host, address or block\)$/ },
  { category: 'input limits', args: ['matrix', 'import', '$FIFO'], message: /^portmatrix: .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['matrix', 'import', '$BIG'], message: /^portmatrix: .*\/big\.yaml: 16\.0 MiB, more than the 16\.0 MiB limit/ },
  { category: 'input limits', args: ['matrix', 'import', '$BAD/import-empty.txt', '--overrides', '$FIFO'], message: /^portmatrix: .*(fifo is a FIFO, not a regular file|not a port matrix)/ },
  { category: 'input limits', args: ['audit', '$FIFO'], message: /^portmatrix: inventory .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['audit', '$BIG'], message: /^portmatrix: inventory .*\/big\.yaml: 16\.0 MiB, more than the 16\.0 MiB limit/ },
  { category: 'input limits', args: ['audit', '$BAD/alias-bomb.yaml'], message: /^portmatrix: .*alias-bomb\.yaml:1:1: YAML aliases expand too far/ },
  { category: 'input limits', args: ['check', '--nmap-xml', '$FIFO', '--matrix', 'ip-office-9.1'], message: /^portmatrix: --nmap-xml .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['check', '--nmap-xml', '/dev/zero', '--matrix', 'ip-office-9.1'], message: /^portmatrix: --nmap-xml \/dev\/zero is a character device, not a regular file/ },
  { category: 'input limits', args: ['diff', '$RESULT', '$FIFO'], message: /^portmatrix: .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['diff', '$BAD/deep-result.json', '$RESULT'], message: /^portmatrix: .*deep-result\.json:1:\d+: not a portmatrix result: nested deeper than 64 levels/ },
  { category: 'input limits', args: ['merge', '$FIFO'], message: /^portmatrix: .*\/fifo is a FIFO, not a regular file/ },
  { category: 'input limits', args: ['matrix', 'validate', '$BAD/alias-bomb.yaml'], message: /^portmatrix: .*alias-bomb\.yaml:1:1: YAML aliases expand too far \(more than 100 alias uses\)$/ },
  { category: 'input limits', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$BAD/alias-bomb.yaml'], message: /^portmatrix: .*alias-bomb\.yaml:1:1: YAML aliases expand too far/ },
  { category: 'input limits', args: ['matrix', 'validate', '$BAD/deep-nesting.yaml'], message: /^portmatrix: .*deep-nesting\.yaml:\d+:\d+: YAML syntax: nested too deeply/ },
  { category: 'input limits', args: ['report', '$BAD/deep-nesting.json'], message: /^portmatrix: .*deep-nesting\.json:1:65: not a portmatrix result: nested deeper than 64 levels/ },
  { category: 'input limits', args: ['report', '$BAD/deep-result.json'], message: /^portmatrix: .*deep-result\.json:1:\d+: not a portmatrix result: nested deeper than 64 levels/ },

  // Values: documented ranges, refused outside them (never clamped).
  { category: 'values', args: ['scan', '127.0.0.1', '--max-rtt-timeout', '3000000000'], message: /^portmatrix: --max-rtt-timeout "3000000000": expected a whole number from 1 to 60000 \(for example --max-rtt-timeout 100\)$/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-rtt-timeout', '0'], message: /^portmatrix: --max-rtt-timeout "0": expected a whole number from 1 to 60000/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--min-rtt-timeout', '60001'], message: /^portmatrix: --min-rtt-timeout "60001": expected a whole number from 1 to 60000/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--initial-rtt-timeout=-5'], message: /^portmatrix: --initial-rtt-timeout "-5": expected a whole number from 1 to 60000/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--initial-rtt-timeout', '1.5'], message: /^portmatrix: --initial-rtt-timeout "1\.5": expected a whole number/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--min-rtt-timeout', '500', '--max-rtt-timeout', '100'], message: /^portmatrix: --min-rtt-timeout 500 is above --max-rtt-timeout 100 \(make the floor at most the ceiling\)$/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-concurrency', '0'], message: /^portmatrix: --max-concurrency "0": expected a whole number from 1 to 65536/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-concurrency', '999999999999999999999999'], message: /^portmatrix: --max-concurrency "999999999999999999999999": expected a whole number from 1 to 65536/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-rate', '1e3'], message: /^portmatrix: --max-rate "1e3": expected a whole number from 0 to 1000000/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-rate', '1000001'], message: /^portmatrix: --max-rate "1000001": expected a whole number from 0 to 1000000/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-retries', '51'], message: /^portmatrix: --max-retries "51": expected a whole number from 0 to 50/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-retries', ''], message: /^portmatrix: --max-retries "": expected a whole number from 0 to 50/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--seed', '4294967296'], message: /^portmatrix: --seed "4294967296": expected a whole number from 0 to 4294967295/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--seed', '999999999999999999999999'], message: /^portmatrix: --seed "999999999999999999999999": expected a whole number from 0 to 4294967295/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--seed=-1'], message: /^portmatrix: --seed "-1": expected a whole number from 0 to 4294967295/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-hosts', '0'], message: /^portmatrix: --max-hosts "0": expected a whole number from 1 to 65536/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-hosts', '65537'], message: /^portmatrix: --max-hosts "65537": expected a whole number from 1 to 65536/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--max-hosts', 'all'], message: /^portmatrix: --max-hosts "all": expected a whole number from 1 to 65536/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--profile', 'turbo'], message: /^portmatrix: --profile "turbo" is not a profile \(use one of gentle, normal, fast\)$/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--format', ''], message: /^portmatrix: --format has an empty format name \(formats: table, json, markdown, html, junit, nmap-xml\)$/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--format', 'json,,html', '--output', 'x'], message: /^portmatrix: --format has an empty format name/ },
  { category: 'values', args: ['report', '$RESULT', '--format', 'jsno'], message: /^portmatrix: unknown --format "jsno" \(formats: table, json, markdown, html, junit, nmap-xml\)$/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--ports', '0'], message: /^portmatrix: --ports "0": port 0 is outside 1-65535/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--ports', '70000'], message: /^portmatrix: --ports "70000": port 70000 is outside 1-65535/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--ports', '100-10'], message: /^portmatrix: --ports "100-10": / },
  { category: 'values', args: ['scan', '127.0.0.1', '--ports', 'abc'], message: /^portmatrix: --ports "abc": / },
  { category: 'values', args: ['scan', '127.0.0.1', '--udp', '65536'], message: /^portmatrix: --udp "65536": port 65536 is outside 1-65535/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--ports', 'none', '--udp', 'none'], message: /^portmatrix: nothing to scan: --ports none and --udp none/ },
  { category: 'values', args: ['scan', '127.0.0.1', '--fail-on', 'sometimes'], message: /^portmatrix: option '--fail-on <level>' argument 'sometimes' is invalid\. Allowed choices are error, warning, notice, never \(see portmatrix --help\)$/ },

  // Targets: strict parsing; the host cap counts distinct hosts.
  { category: 'targets', args: ['scan', '127.0.0.1/24/8'], message: /^portmatrix: target "127\.0\.0\.1\/24\/8": a CIDR block has exactly one "\/", this has 2 \(write a block like 198\.18\.0\.0\/24 or 2001:db8::\/120\)$/ },
  { category: 'targets', args: ['scan', '127.0.0.1/33'], message: /^portmatrix: target "127\.0\.0\.1\/33": prefix \/33 is not 0-32/ },
  { category: 'targets', args: ['scan', '127.0.0.1/024'], message: /^portmatrix: target "127\.0\.0\.1\/024": prefix \/024 is not 0-32/ },
  { category: 'targets', args: ['scan', '127.0.0.1/'], message: /^portmatrix: target "127\.0\.0\.1\/": prefix \/ is not 0-32/ },
  { category: 'targets', args: ['scan', '::1/129'], message: /^portmatrix: target "::1\/129": prefix \/129 is not 0-128/ },
  { category: 'targets', args: ['scan', 'fe80::1%lo/64'], message: /^portmatrix: target "fe80::1%lo\/64": "fe80::1%lo" is not an IP address \(.*\(no zone index\)\)$/ },
  { category: 'targets', args: ['scan', '999.1.1.1'], message: /^portmatrix: target "999\.1\.1\.1": malformed IP address/ },
  { category: 'targets', args: ['scan', '1.2.3'], message: /^portmatrix: target "1\.2\.3": malformed IP address/ },
  { category: 'targets', args: ['scan', 'not a host!'], message: /^portmatrix: target "not a host!": not an IP address, CIDR block or host name/ },
  { category: 'targets', args: ['scan', '127.0.0.0/8'], message: /^portmatrix: target "127\.0\.0\.0\/8": 16777214 hosts, more than the cap of 256 \(scan smaller blocks: --max-hosts goes up to 65536 \(a \/16\)\)$/ },
  { category: 'targets', args: ['scan', '127.0.0.1,127.0.0.1,127.0.0.2,127.0.0.3', '--max-hosts', '2'], message: /^portmatrix: more than 2 distinct hosts to scan \(raise the cap with --max-hosts\)$/ },
  { category: 'targets', args: ['scan'], message: /^portmatrix: scan: no targets \(name a host, e\.g\. portmatrix scan 198\.18\.0\.10, or use --targets-file\)$/ },
  { category: 'targets', args: ['scan', '--targets-file', '$BAD/targets-bad-line.txt'], message: /^portmatrix: target "127\.0\.0\.300": malformed IP address/ },
  { category: 'targets', args: ['scan', '--targets-file', '$BAD/targets-cidr-two-slashes.txt'], message: /^portmatrix: target "127\.0\.0\.1\/24\/8": a CIDR block has exactly one "\/"/ },
  { category: 'targets', args: ['scan', '--targets-file', 'nosuch.txt'], message: /^portmatrix: cannot read --targets-file nosuch\.txt: ENOENT \(give a readable file with one target per line\)$/ },

  // Policy: every row, component and condition it names must exist in the selection.
  { category: 'policy', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$BAD/policy-unknown-row.yaml'], message: /^portmatrix: .*policy-unknown-row\.yaml:3:5: conditions\[0\]: unknown condition or row "ipo-ha" \(name a condition kind \([\w, -]+\), a matrix row id \(portmatrix matrix show <matrix>\), or \*; (rows with a condition here: [\w, -]+|no selected row has a condition)\)$/ },
  { category: 'policy', args: ['scan', '127.0.0.1', '--matrix', 'aacc-7.1.2', '--component', 'contact-center', '--policy', '$BAD/policy-unselected-component.yaml'], message: /^portmatrix: .*policy-unselected-component\.yaml:3:5: conditions\[0\]: row "aams-7" belongs to component aams, which is not selected \(add --component aams, or remove the entry\)$/ },
  { category: 'policy', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$BAD/policy-row-without-condition.yaml'], message: /^portmatrix: .*policy-row-without-condition\.yaml:2:14: conditions\[0\]: row "ip-office-in-1" has no condition \(documented open\)/ },
  { category: 'policy', args: ['report', '$RESULT', '--policy', '$BAD/policy-unselected-component.yaml'], message: /^portmatrix: .*policy-unselected-component\.yaml:3:5: conditions\[0\]: unknown condition or row "aams-7"/ },
  { category: 'policy', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', '$BAD/policy-not-a-mapping.yaml'], message: /^portmatrix: .*policy-not-a-mapping\.yaml:1:1: / },
  { category: 'policy', args: ['scan', '127.0.0.1', '--policy', '$BAD/policy-unknown-row.yaml'], message: /^portmatrix: --policy needs --matrix \(name the port matrix to check against, e\.g\. --matrix ip-office-9\.1\)$/ },
  { category: 'policy', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', 'nosuch.yaml'], message: /^portmatrix: cannot read policy file nosuch\.yaml: ENOENT \(check the --policy path\)$/ },
  ...['bad-date', 'bad-port', 'bad-severity', 'unknown-field', 'unknown-kind', 'yaml-syntax'].map(
    (name): Case => ({
      category: 'policy',
      args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--policy', `$REPO/fixtures/policy/broken/${name}.yaml`],
      message: new RegExp(`^portmatrix: .*fixtures/policy/broken/${name}\\.yaml:\\d+:\\d+: `),
    }),
  ),

  // Matrix files and saved results.
  { category: 'matrix and result', args: ['report', '$BAD/not-json.json'], message: /^portmatrix: .*not-json\.json(:1:1)?: not a portmatrix result: invalid JSON/ },
  { category: 'matrix and result', args: ['report', '$BAD/empty.json'], message: /^portmatrix: .*empty\.json(:\d+:\d+)?: not a portmatrix result: invalid JSON/ },
  { category: 'matrix and result', args: ['report', '$BAD/array.json'], message: /^portmatrix: .*array\.json: not a portmatrix result \(no "schema": "portmatrix\/result"\)/ },
  { category: 'matrix and result', args: ['report', '$BAD/other-schema.json'], message: /^portmatrix: .*other-schema\.json: not a portmatrix result \(no "schema": "portmatrix\/result"\)/ },
  { category: 'matrix and result', args: ['report', '$BAD/future-version.json'], message: /^portmatrix: .*future-version\.json: result schemaVersion 99 is newer than this portmatrix reads \(1\) \(upgrade portmatrix to render it\)$/ },
  { category: 'matrix and result', args: ['report', '$BAD/missing-hosts.json'], message: /^portmatrix: .*missing-hosts\.json: \w+.*\(.*\)$/ },
  { category: 'matrix and result', args: ['report', 'nope.json'], message: /^portmatrix: cannot read nope\.json: ENOENT/ },
  { category: 'matrix and result', args: ['matrix', 'validate', 'nope.yaml'], message: /^portmatrix: matrix "nope\.yaml" not found: no such file and no built-in matrix of that id/ },
  ...['port-65536', 'unknown-state', 'duplicate-row-id', 'yaml-unclosed-flow', 'empty'].map(
    (name): Case => ({ category: 'matrix and result', args: ['matrix', 'validate', `$REPO/fixtures/matrix/broken/${name}.yaml`], message: new RegExp(`^portmatrix: .*fixtures/matrix/broken/${name}\\.yaml:\\d+:\\d+: `) }),
  ),
  { category: 'matrix and result', args: ['matrix', 'import', '$BAD/import-empty.txt'], message: /^portmatrix: import-empty\.txt: not a port matrix: / },
  { category: 'matrix and result', args: ['matrix', 'import', '$BAD/import-binary.txt'], message: /^portmatrix: import-binary\.txt: not a port matrix: the file is binary, not text/ },

  // Hostile text in what an error quotes: shown, never obeyed.
  { category: 'text', args: ['matrix', 'validate', '$BAD/hostile-state.yaml'], message: /^portmatrix: .*hostile-state\.yaml:28:12: rows\[0\]\.state: unknown state "\uFFFD\]0;owned\uFFFD\uFFFD\[2Jopen"/ },
  { category: 'text', args: ['scan', '\u001b]0;owned\u0007'], message: /^portmatrix: target "\\u001b\]0;owned\\u0007": not an IP address, CIDR block or host name/ },
  { category: 'text', args: ['report', '$RESULT', '--format', '\u001b[2J'], message: /^portmatrix: unknown --format "\\u001b\[2J"/ },
  { category: 'text', args: ['report', 'x\u001b[31m\u009b1m.json'], message: /^portmatrix: cannot read x\uFFFD\[31m\uFFFD1m\.json: ENOENT/ },
  { category: 'text', args: ['scan', '127.0.0.1', '--\u001b[2Jbogus'], message: /^portmatrix: unknown option '--\uFFFD\[2Jbogus' \(see portmatrix --help\)$/ },
  { category: 'text', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--component', 'x\u202ey'], message: /^portmatrix: .*unknown component "x\uFFFDy"|^portmatrix: .*x\uFFFDy/ },

  // Usage.
  { category: 'usage', args: ['scna', '127.0.0.1'], message: /^portmatrix: unknown command 'scna' \(did you mean scan\? see portmatrix --help\)$/ },
  { category: 'usage', args: ['report'], message: /^portmatrix: missing required argument 'result\.json' \(see portmatrix --help\)$/ },
  { category: 'usage', args: ['scan', '127.0.0.1', '--component', 'ip-office'], message: /^portmatrix: --component needs --matrix/ },
  { category: 'usage', args: ['scan', '127.0.0.1', '--matrix', 'ip-office-9.1', '--platform', 'vax'], message: /unknown platform "vax" for matrix ip-office-9\.1/ },
];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Entries left in the case's own working folder afterwards. */
  leftovers: string[];
}

let specials = '';
let socketServer: Server | undefined;
const outcomes = new Map<Case, Outcome>();

function expand(arg: string): string {
  return arg
    .replaceAll('$BAD', BAD)
    .replaceAll('$RESULT', RESULT)
    .replaceAll('$REPO', REPO)
    .replaceAll('$FIFO', path.join(specials, 'fifo'))
    .replaceAll('$BIG', path.join(specials, 'big.yaml'))
    .replaceAll('$SOCKET', path.join(specials, 'socket'))
    .replaceAll('$DIR', path.join(specials, 'dir'));
}

function leftoversOf(cwd: string): string[] {
  const leftovers = readdirSync(cwd);
  rmSync(cwd, { recursive: true, force: true });
  return leftovers;
}

/** A case that reads standard input gets a process of its own. */
function runAlone(testCase: Case): Promise<Outcome> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'pm-bad-'));
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...testCase.args.map(expand)], { cwd, timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr, leftovers: leftoversOf(cwd) });
    });
    child.stdin?.on('error', () => undefined); // the CLI may refuse before reading all of it
    child.stdin?.end(testCase.stdin);
  });
}

/** Every other case in one Node process (test/helpers/run-cli-cases.mjs), each in its own empty folder. */
function runTogether(cases: readonly Case[]): Promise<Outcome[]> {
  const cwds = cases.map(() => mkdtempSync(path.join(tmpdir(), 'pm-bad-')));
  const list = path.join(specials, 'cases.json');
  writeFileSync(list, JSON.stringify(cases.map((testCase, index) => ({ args: testCase.args.map(expand), cwd: cwds[index] }))));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HARNESS, list], { cwd: REPO, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`the case runner failed: ${stderr || error.message}`));
      const outcomes = JSON.parse(stdout) as Omit<Outcome, 'leftovers'>[];
      resolve(outcomes.map((outcome, index) => ({ ...outcome, leftovers: leftoversOf(cwds[index]!) })));
    });
  });
}

/** Name, size and content hash of every file under a folder: "not changed" is checked against this. */
function snapshot(folder: string): string {
  const entries: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const info = statSync(full);
      if (info.isDirectory()) walk(full);
      else entries.push(`${path.relative(folder, full)} ${info.mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(folder);
  return entries.join('\n');
}

const fixturesBefore = snapshot(path.join(REPO, 'fixtures'));

beforeAll(async () => {
  specials = mkdtempSync(path.join(tmpdir(), 'pm-bad-specials-'));
  execFileSync('mkfifo', [path.join(specials, 'fifo')]);
  mkdirSync(path.join(specials, 'dir'));
  // Sparse: one byte over the bound costs no disk and no time to make.
  writeFileSync(path.join(specials, 'big.yaml'), '');
  truncateSync(path.join(specials, 'big.yaml'), OVER_BOUND);
  const server = createServer();
  socketServer = server;
  await new Promise<void>((resolve) => server.listen(path.join(specials, 'socket'), resolve));
  const together = CASES.filter((testCase) => testCase.stdin === undefined);
  const [shared, ...alone] = await Promise.all([runTogether(together), ...CASES.filter((testCase) => testCase.stdin !== undefined).map(runAlone)]);
  together.forEach((testCase, index) => outcomes.set(testCase, shared![index]!));
  CASES.filter((testCase) => testCase.stdin !== undefined).forEach((testCase, index) => outcomes.set(testCase, alone[index]!));
}, 300_000);

afterAll(async () => {
  await new Promise((resolve) => socketServer?.close(resolve));
  if (specials) rmSync(specials, { recursive: true, force: true });
});

describe('bad-input corpus', () => {
  it('has at least 80 cases in every category', () => {
    const counts = new Map<Category, number>();
    for (const testCase of CASES) counts.set(testCase.category, (counts.get(testCase.category) ?? 0) + 1);
    console.info(`[bad-input] ${CASES.length} cases: ${[...counts].map(([category, count]) => `${category} ${count}`).join(', ')}`);
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    expect(counts.size).toBe(8);
  });

  it.each(CASES.map((testCase) => [testCase.category, testCase.args.join(' '), testCase] as const))('%s: portmatrix %s', (_category, _line, testCase) => {
    const outcome = outcomes.get(testCase)!;
    expect(outcome.stdout).toBe('');
    const lines = outcome.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(testCase.message);
    expect(outcome.stderr).not.toMatch(/\n\s+at |internal error|Error:/);
    expect(outcome.stderr).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
    expect(outcome.code).toBe(2);
    expect(outcome.leftovers).toEqual([]);
  });

  it('changed no fixture', () => {
    expect(snapshot(path.join(REPO, 'fixtures'))).toBe(fixturesBefore);
  });
});
