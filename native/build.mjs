// Builds the optional native probers (connect, SYN) at `npm install`. Never fails the install:
// without a compiler (or off Linux) the scanner falls back to net.Socket and a connect scan, and says so.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.platform !== 'linux' || process.env.PORTMATRIX_SKIP_NATIVE === '1') process.exit(0);

const FALLBACK = 'scans use net.Socket, and no SYN scan';
const warn = (why) => process.stderr.write(`portmatrix: native probers not built (${why}); ${FALLBACK}\n`);
// node-gyp's own complaint about a missing tool is forty lines long: name what is missing first.
const found = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = [['python3', 'python3'], ['make', 'make'], ['g++', 'g++']].filter(([command]) => !found(command));
if (missing.length > 0) {
  warn(`${missing.map(([command]) => command).join(', ')} not found: apt-get install ${missing.map(([, pkg]) => pkg).join(' ')}, then npm rebuild`);
  process.exit(0);
}
// npm tells its scripts where its own node-gyp is.
let gyp = process.env.npm_config_node_gyp;
if (!gyp) try {
  gyp = join(dirname(createRequire(import.meta.url).resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  // npm ships node-gyp next to itself.
  gyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
// Use the headers installed with this node when there are some (no download needed).
const prefix = join(dirname(process.execPath), '..');
const args = [gyp, 'rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) {
  // The first compiler error, else node-gyp's own error line.
  const lines = (result.stderr || String(result.error ?? '')).split('\n');
  const why = lines.find((line) => /error:/u.test(line)) ?? lines.find((line) => /gyp ERR! stack Error:/u.test(line)) ?? lines.filter(Boolean).at(-1) ?? 'node-gyp failed';
  warn(`${why.replace(/^gyp ERR! stack /u, '').trim()}; npm rebuild tries again`);
}
