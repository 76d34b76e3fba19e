import { statfs } from 'node:fs/promises';
import { CouldNotCheck } from '../core/errors.js';

export interface DiskUsage {
  path: string;
  usedPct: number;
  freeBytes: number;
  totalBytes: number;
}

/** Used space as df reports it: used / (used + available to unprivileged users). */
export function usageFromStatfs(
  path: string,
  s: { bsize: number; blocks: number; bfree: number; bavail: number },
): DiskUsage {
  const used = s.blocks - s.bfree;
  const denominator = used + s.bavail;
  return {
    path,
    usedPct: denominator > 0 ? (used / denominator) * 100 : 100,
    freeBytes: s.bavail * s.bsize,
    totalBytes: s.blocks * s.bsize,
  };
}

export async function diskUsage(path: string): Promise<DiskUsage> {
  try {
    return usageFromStatfs(path, await statfs(path));
  } catch (err) {
    throw new CouldNotCheck(`statfs ${path}: ${(err as Error).message}`, { cause: err });
  }
}
