// Which processes this one can see: the kernel's boot and its pid namespace. A component
// publishes it in its heartbeat details; a sweeper with the same key sees the same pids, so
// an orphan's missing pid there is evidence that its process died (grace.ts). Linux only:
// elsewhere there is no key and no such evidence.
import { readFileSync, readlinkSync } from 'node:fs';

function readKey(): string | null {
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return null;
  }
}

export const PROCESS_NAMESPACE = readKey();

/**
 * Whether no process with this pid exists here (or only its zombie: a dead process whose
 * parent died first may never be reaped). A pid in use, even by another process after reuse,
 * or one we may not signal, is not gone.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return true;
  }
}
