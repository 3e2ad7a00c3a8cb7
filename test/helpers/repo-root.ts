/** This repository's root: the project of the report service (its ferry.config.ts, package.json and lock file). */
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
