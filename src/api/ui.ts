// The web UI: the Vite build in src/ui/dist (committed, so a fresh clone serves it
// without a build step). Fingerprinted files under /assets/ are cached as immutable;
// index.html is always revalidated so a new deploy is picked up at once.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const UI_DIST = fileURLToPath(new URL('../ui/dist/', import.meta.url));

export async function registerUi(app: FastifyInstance): Promise<void> {
  if (!existsSync(UI_DIST)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('The web UI is not built: run `npm run build:ui`. The REST API is at /api/v1 (see /api/v1/openapi.json).'));
    return;
  }
  await app.register(fastifyStatic, {
    root: UI_DIST,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: (res, path) => {
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
