/**
 * The notes service's Ferry configuration: `npm run notes` runs it locally
 * (`ferry dev --config notes/ferry.config.ts`); `ferry synth --config
 * notes/ferry.config.ts` builds its own stack, `FerryNotes`. Its function
 * entries are named from the package's root, where this repository's
 * `package.json` is.
 */
import { defineConfig } from 'ferry';
import { notesApp } from './resources.js';

export default defineConfig({
  app: notesApp,
  stackName: 'FerryNotes',
  dev: {
    hints: (url) => [
      `notes (HTML):  ${url}/notes`,
      `a note:        curl -s -X POST ${url}/notes -H 'content-type: application/json' -d '{"title":"hello"}'`,
      `10 copies:     curl -s -X POST ${url}/notes/<id>/copies -H 'content-type: application/json' -d '{"count":10,"paceMs":500}'`,
      `delete:        curl -s -X DELETE '${url}/notes/<id>?remedy=lock'   (or soft-delete, cancel)`,
      `sign up:       curl -s -X POST ${url}/users -H 'content-type: application/json' -d '{"id":"ada","name":"Ada","email":"ada@example.com","phone":"+15550100"}'`,
    ],
  },
});
