/** The scan progress line on stderr (only on a terminal). */
import type { ScanProgress } from '../scan/engine.js';

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export function createProgressBar(stream: Pick<NodeJS.WriteStream, 'write' | 'columns'>): { update(progress: ScanProgress): void; clear(): void } {
  let shown = false;
  return {
    update(progress) {
      const width = 24;
      const fraction = progress.portsTotal > 0 ? progress.portsDone / progress.portsTotal : 1;
      const filled = Math.round(fraction * width);
      const host = progress.hostCount > 1 ? ` host ${progress.hostIndex + 1}/${progress.hostCount}` : '';
      const eta = progress.etaMs === null ? '' : ` ETA ${formatDuration(progress.etaMs)}`;
      const confirming = progress.udpConfirming > 0 ? `  confirming ${progress.udpConfirming} silent UDP port${progress.udpConfirming === 1 ? '' : 's'} (~1/s: the target's ICMP limit)` : '';
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.portsDone}/${progress.portsTotal} ports${host}  ${progress.openSoFar} open  ${Math.round(progress.ratePerSecond)}/s${eta}${confirming}`;
      // A terminal that reports 0 or no columns (some CI consoles, serial lines) gets the whole line, not 20 characters of it.
      const columns = stream.columns > 0 ? stream.columns : undefined;
      stream.write(`\r\u001b[2K${columns === undefined ? line : line.slice(0, columns - 1)}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\u001b[2K');
    },
  };
}
