import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** True when this code runs compiled (dist/src/…, the container image), false from the TypeScript sources. */
export const COMPILED = path.basename(path.resolve(here, '../..')) === 'dist';

/**
 * maillon's installation folder (bin/, schemas/, src/db/migrations/): two levels above this
 * folder in the sources (src/system), three when compiled (dist/src/system). What is not code
 * is read from there in both cases, so the build copies nothing.
 */
export const PACKAGE_ROOT = path.resolve(here, COMPILED ? '../../..' : '../..');
