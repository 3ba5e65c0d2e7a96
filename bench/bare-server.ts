/**
 * The baseline for the load benchmark: a bare Node HTTP server that sends the same bytes as
 * aiframe-server (the tiny start answer, and one frame render as a chunked result) with no
 * framework, no routing, no validation and no disk reads.
 * Usage: node dist/bench/bare-server.js <port> <render.jpg>
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const [portText, renderPath] = process.argv.slice(2);
const jpeg = readFileSync(renderPath as string);
let counter = 0;

createServer((req, res) => {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => {
      counter += 1;
      const body = `{"id":"bare${counter.toString(36)}","status":"pending"}`;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  const id = (req.url ?? '').split('/').pop() ?? '';
  const body = Buffer.concat([Buffer.from(`{"id":"${id}","status":"done","response":{"image":"`), Buffer.from(jpeg.toString('base64')), Buffer.from('"}}')]);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (let offset = 0; offset < body.length; offset += 512) res.write(body.subarray(offset, offset + 512));
  res.end();
}).listen(Number(portText), '127.0.0.1', () => process.send?.('listening'));
