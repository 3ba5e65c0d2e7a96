import { readFile } from 'node:fs/promises';
import { naming } from './fs-errors.js';

/** The file's text, or undefined when there is no such file; any other failure is thrown, naming the file. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw naming(error, path);
  }
}
