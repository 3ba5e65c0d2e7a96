import { writeFileAtomic } from '../../util/atomic-write.js';
import { readTextIfExists } from '../../util/read-if-exists.js';

/** Only the owner may read or write it. */
const SECRET_FILE_MODE = 0o600;

/**
 * Writes a secret atomically and owner-only: the temporary file gets the mode before the
 * secret is written to it (writeFileAtomic's `mode`), so no other local user can read it
 * at any moment.
 */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  await writeFileAtomic(path, `${secret}\n`, { mode: SECRET_FILE_MODE });
}

/** The secret in `path` (surrounding white space removed), or undefined when there is no file. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  return (await readTextIfExists(path))?.trim();
}
