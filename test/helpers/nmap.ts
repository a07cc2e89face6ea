/**
 * nmap as a child process for tests that compare with it. nmap reads the machine's interface list
 * once and then asks netlink for the route; when test files running beside it add or remove their
 * namespace links in between, it can end with "route_dst_netlink: can't find interface ..." before
 * sending anything. That is the other files' churn, not the path under test: such a run is repeated.
 */
import { spawnSync } from 'node:child_process';

const INTERFACE_RACE = /route_dst_netlink: can't find interface|Failed to find device/;
const ATTEMPTS = 3;

export function runNmapSync(args: string[], options: { cwd?: string; timeoutMs: number }): { status: number | null; stdout: string; stderr: string } {
  for (let attempt = 1; ; attempt++) {
    const result = spawnSync('nmap', args, { ...(options.cwd ? { cwd: options.cwd } : {}), encoding: 'utf8', timeout: options.timeoutMs, killSignal: 'SIGKILL' });
    if (result.error) throw new Error(`nmap ${args.join(' ')}: ${result.error.message}`);
    if (attempt < ATTEMPTS && result.status !== 0 && INTERFACE_RACE.test(result.stderr)) continue;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
}
