import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Plain path constants only: unit tests import this, so it must not pull in the app.

/** Repository root (this file runs as dist/test/helpers/paths.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The Speech SDK's test recordings, in the shared folder beside the repository. */
export const SDK_AUDIO = resolve(REPO_ROOT, '../shared/test-audio/sdk');
/** Recordings and transcriptions of the Debian pocketsphinx-testdata package. */
export const PS_TESTDATA = '/usr/share/pocketsphinx/test/data';
