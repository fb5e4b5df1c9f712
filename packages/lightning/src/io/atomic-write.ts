import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The prefix of the temporary files `writeFileAtomic` leaves behind when its process dies. */
export const TEMPORARY_PREFIX = '.tmp-';

/**
 * Writes `data` to `path` so that a reader, or a process killed at any moment, sees either the
 * old file or the complete new one: the bytes go to a temporary file in the same folder, are
 * flushed to disk (fsync), and the temporary file is renamed over `path` (atomic on POSIX file
 * systems); the folder is then synced so that the rename itself survives a power loss.
 *
 * @example
 * await writeFileAtomic('checkpoints/last.ckpt', bytes);
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `${TEMPORARY_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}

/** Flushes a folder's entries (new names, renames) to disk, where the platform allows it. */
export async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or sync a folder; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that `writeFileAtomic` calls of processes that have died left in
 * `folder` (their names carry the writer's pid). Files of live processes are left alone.
 */
export async function removeStaleTemporaryFiles(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(TEMPORARY_PREFIX)) continue;
    const parts = name.split('.');
    const pid = Number(parts[parts.length - 2]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await unlink(join(folder, name)).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
