// The embed example: a "stranger's site" on its own origin that embeds the contributor with one
// script tag (examples/embed/index.html, with the embed's URL and the relay filled in).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/** Serves the example on `port` (0: any free one); resolves with its URL and a close(). */
export function serveExample({ port, host = 'localhost', embedUrl, relay }) {
  const page = readFileSync(new URL('../examples/embed/index.html', import.meta.url), 'utf8')
    .replaceAll('%TESSEL_EMBED%', embedUrl)
    .replaceAll('%TESSEL_RELAY%', relay);
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      resolve({
        url: `http://${host}:${bound}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
