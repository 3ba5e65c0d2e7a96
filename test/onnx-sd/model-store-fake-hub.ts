/**
 * A local stand-in for the Hugging Face hub, for the model-store tests: the tree API
 * (`GET /api/models/{repo}/tree/{revision}?recursive=true`, entries `{type, oid, size, path,
 * lfs?: {oid, size, pointerSize}}`, `Link: rel="next"` pages) and `resolve` with Range
 * support; LFS files are redirected to a "CDN" on another origin, as the real hub does.
 * Scripted faults: a connection dropped mid-file, Range ignored, wrong bytes, auth required.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  readonly path: string;
  readonly content: Buffer;
  /** Stored with LFS: the tree reports its sha256 and resolve redirects to the CDN. */
  readonly lfs: boolean;
}

export interface FakeRepo {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly files: readonly FakeHubFile[];
}

export interface HubRequest {
  readonly host: 'hub' | 'cdn';
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

export interface FakeHubFaults {
  /** The next full (non-Range) GET of this path sends a complete Content-Length, then this many bytes, then drops the connection. */
  dropAfter?: Map<string, number>;
  /** The next full GET of this path sends this many bytes and then nothing, keeping the connection open. */
  stallAfter?: Map<string, number>;
  /** Answer Range requests with 200 and the whole file. */
  ignoreRange?: boolean;
  /** Serve other bytes than the tree's hash promises, for these paths. */
  corrupt?: Set<string>;
  /** Require `Authorization: Bearer <token>` on the hub origin (401 otherwise). */
  token?: string;
  /** Entries per tree page; the rest follows through `Link: <...>; rel="next"`. */
  treePageSize?: number;
}

export interface FakeHub {
  readonly endpoint: string;
  readonly cdn: string;
  readonly requests: HubRequest[];
  readonly faults: FakeHubFaults;
  close(): Promise<void>;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function gitOid(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** An ONNX-looking file whose graph names `location` as external data, so layout checks find it. */
export function fakeOnnxWithExternalData(location: string): Buffer {
  const name = Buffer.from(location, 'utf8');
  return Buffer.concat([randomBytes(200), Buffer.from('\x0a\x08location\x12', 'latin1'), Buffer.from([name.length]), name, randomBytes(100)]);
}

/** The layout of a real diffusers ONNX export with small random bytes in place of weights. */
export function fakeSdFiles(): FakeHubFile[] {
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  return [
    { path: 'model_index.json', content: text('{"_class_name":"OnnxStableDiffusionPipeline"}\n'), lfs: false },
    { path: 'README.md', content: text('# tiny\n'), lfs: false },
    { path: 'text_encoder/model.onnx', content: randomBytes(40_000), lfs: true },
    { path: 'unet/model.onnx', content: fakeOnnxWithExternalData('weights.pb'), lfs: true },
    { path: 'unet/weights.pb', content: randomBytes(300_000), lfs: true },
    { path: 'unet/diffusion_pytorch_model.safetensors', content: randomBytes(50_000), lfs: true },
    { path: 'vae_decoder/model.onnx', content: randomBytes(30_000), lfs: true },
    { path: 'vae_encoder/model.onnx', content: randomBytes(20_000), lfs: true },
    { path: 'tokenizer/vocab.json', content: text('{"a</w>":0,"b</w>":1}\n'), lfs: false },
    { path: 'tokenizer/merges.txt', content: text('#version: 0.2\na b\n'), lfs: false },
    { path: 'tokenizer/special_tokens_map.json', content: text('{}\n'), lfs: false },
    { path: 'scheduler/scheduler_config.json', content: text('{"_class_name":"EulerDiscreteScheduler"}\n'), lfs: false },
  ];
}

export async function startFakeHub(repos: readonly FakeRepo[], faults: FakeHubFaults = {}): Promise<FakeHub> {
  const requests: HubRequest[] = [];
  const cdnServer = createServer((request, response) => {
    requests.push({ host: 'cdn', method: request.method ?? 'GET', url: request.url ?? '', headers: request.headers });
    const match = /^\/blobs\/([0-9a-f]{64})/.exec(request.url ?? '');
    const file = match === null ? undefined : repos.flatMap((repo) => repo.files).find((f) => sha256(f.content) === match[1]);
    if (file === undefined) return sendText(response, 404, 'no such blob');
    serveBytes(request, response, file, faults, {});
  });
  const cdn = await listen(cdnServer);

  const hubServer = createServer((request, response) => {
    requests.push({ host: 'hub', method: request.method ?? 'GET', url: request.url ?? '', headers: request.headers });
    if (faults.token !== undefined && request.headers.authorization !== `Bearer ${faults.token}`) {
      return sendText(response, 401, 'Invalid credentials in Authorization header', { 'x-error-code': 'RepoNotFound' });
    }
    const url = new URL(request.url ?? '/', 'http://hub');
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    if (tree !== null) return serveTree(response, url, repos, decodeURIComponent(tree[1]!), decodeURIComponent(tree[2]!), faults, endpoint);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve !== null) {
      const repo = findRepo(repos, decodeURIComponent(resolve[1]!), decodeURIComponent(resolve[2]!));
      const path = resolve[3]!.split('/').map(decodeURIComponent).join('/');
      const file = repo?.files.find((f) => f.path === path);
      if (repo === undefined || file === undefined) return sendText(response, 404, 'Entry not found', { 'x-error-code': 'EntryNotFound' });
      const headers = { 'x-repo-commit': repo.commit };
      if (file.lfs) {
        response.writeHead(302, { location: `${cdn}/blobs/${sha256(file.content)}?X-Amz-Signature=fake`, ...headers });
        response.end();
        return;
      }
      return serveBytes(request, response, file, faults, headers);
    }
    sendText(response, 404, 'not found');
  });
  const endpoint = await listen(hubServer);
  return {
    endpoint,
    cdn,
    requests,
    faults,
    async close() {
      await Promise.all([closeServer(hubServer), closeServer(cdnServer)]);
    },
  };
}

function findRepo(repos: readonly FakeRepo[], repo: string, revision: string): FakeRepo | undefined {
  return repos.find((r) => r.repo === repo && (r.revision === revision || r.commit === revision));
}

function serveTree(response: ServerResponse, url: URL, repos: readonly FakeRepo[], repoId: string, revision: string, faults: FakeHubFaults, endpoint: string): void {
  const repo = findRepo(repos, repoId, revision);
  if (repo === undefined) return sendText(response, 404, 'Repository not found', { 'x-error-code': 'RepoNotFound' });
  const dirs = new Set<string>();
  for (const file of repo.files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: unknown[] = [
    ...[...dirs].map((path) => ({ type: 'directory', oid: createHash('sha1').update(path).digest('hex'), size: 0, path })),
    ...repo.files.map((file) =>
      file.lfs
        ? {
            type: 'file',
            oid: gitOid(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(file.content)}\nsize ${file.content.length}\n`)),
            size: file.content.length,
            path: file.path,
            lfs: { oid: sha256(file.content), size: file.content.length, pointerSize: 134 },
          }
        : { type: 'file', oid: gitOid(file.content), size: file.content.length, path: file.path },
    ),
  ];
  const pageSize = faults.treePageSize ?? entries.length;
  const cursor = Number(url.searchParams.get('cursor') ?? '0');
  const page = entries.slice(cursor, cursor + pageSize);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cursor + pageSize < entries.length) {
    const next = new URL(url.pathname, endpoint);
    next.searchParams.set('recursive', 'true');
    next.searchParams.set('cursor', String(cursor + pageSize));
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  response.writeHead(200, headers);
  response.end(JSON.stringify(page));
}

function serveBytes(request: IncomingMessage, response: ServerResponse, file: FakeHubFile, faults: FakeHubFaults, headers: Record<string, string>): void {
  let content = file.content;
  if (faults.corrupt?.has(file.path)) {
    content = Buffer.from(content);
    content[content.length >> 1] = (content[content.length >> 1]! + 1) & 0xff;
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  if (range !== null && faults.ignoreRange !== true) {
    const start = Number(range[1]);
    const end = range[2] === '' ? content.length - 1 : Math.min(Number(range[2]), content.length - 1);
    if (start >= content.length) {
      response.writeHead(416, { 'content-range': `bytes */${content.length}`, ...headers });
      response.end();
      return;
    }
    response.writeHead(206, {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
      'content-range': `bytes ${start}-${end}/${content.length}`,
      'accept-ranges': 'bytes',
      ...headers,
    });
    response.end(content.subarray(start, end + 1));
    return;
  }
  const drop = range === null ? faults.dropAfter?.get(file.path) : undefined;
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(content.length), 'accept-ranges': 'bytes', ...headers });
  const stall = range === null ? faults.stallAfter?.get(file.path) : undefined;
  if (stall !== undefined) {
    faults.stallAfter!.delete(file.path);
    response.write(content.subarray(0, stall));
    return;
  }
  if (drop !== undefined) {
    faults.dropAfter!.delete(file.path);
    response.write(content.subarray(0, drop), () => {
      // Give the bytes a moment to leave, then cut the connection mid-body.
      setTimeout(() => response.socket?.destroy(), 20);
    });
    return;
  }
  response.end(content);
}

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain', ...headers });
  response.end(text);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
