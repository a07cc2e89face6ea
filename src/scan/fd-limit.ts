/** The file-descriptor budget for sockets: the soft RLIMIT_NOFILE, read once, minus what is open and a headroom. */
import { readFileSync, readdirSync } from 'node:fs';

const HEADROOM_FDS = 32;
const FALLBACK_SOFT_LIMIT = 1024;

let softLimit: number | undefined;

export function readSoftFdLimit(): number {
  if (softLimit !== undefined) return softLimit;
  softLimit = FALLBACK_SOFT_LIMIT;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((text) => text.startsWith('Max open files'));
    const value = line?.trim().split(/\s+/)[3];
    if (value === 'unlimited') softLimit = 1 << 20;
    else if (value && /^\d+$/.test(value)) softLimit = Number(value);
  } catch {
    // not Linux: keep the conservative fallback
  }
  return softLimit;
}

function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 64;
  }
}

/** Sockets this process may still open without hitting EMFILE, with room for files, pipes and the event loop. */
export function socketBudget(): number {
  return Math.max(4, readSoftFdLimit() - countOpenFds() - HEADROOM_FDS);
}
