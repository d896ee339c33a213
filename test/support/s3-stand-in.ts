/**
 * A local stand-in for the part of Amazon S3 Timebox uses (the audit archive): PutObject,
 * GetObject and ListObjectsV2, path-style (`/{Bucket}/{Key}`), speaking S3's REST-XML protocol so
 * the real @aws-sdk/client-s3 can be pointed at it with AWS_ENDPOINT_URL_S3 (and forcePathStyle).
 *
 * Wire formats (checked against the SDK's schema in node_modules/@aws-sdk/client-s3):
 * - ListObjectsV2: `GET /{Bucket}?list-type=2` with `prefix`, `max-keys`, `continuation-token`;
 *   answers `<ListBucketResult>` with `Contents` (Key, LastModified, ETag, Size, StorageClass),
 *   `KeyCount`, `MaxKeys`, `IsTruncated`, and `NextContinuationToken` while there is more.
 * - GetObject: `GET /{Bucket}/{Key}`: the body, with Content-Length, Content-Type, ETag, Last-Modified.
 * - PutObject: `PUT /{Bucket}/{Key}`: the body (an `aws-chunked` body is decoded), answers ETag.
 * - Errors: `<Error><Code>NoSuchKey|NoSuchBucket</Code><Message>…</Message></Error>` with 404.
 * Keys are listed in UTF-8 binary order, as S3 lists them. Signatures are not checked.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string;
}

export interface S3StandInOptions {
  /** Keys per ListObjectsV2 page at most (S3's is 1,000), so tests can make the lister follow continuation tokens. */
  pageSize?: number;
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=…]\r\n<data>\r\n`… up to a 0-size chunk (and trailers). */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export class S3StandIn {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Every ListObjectsV2 call, with the continuation token it carried (for tests of paging). */
  readonly listCalls: Array<{ bucket: string; prefix: string; continuationToken?: string }> = [];

  private constructor(
    private readonly server: http.Server,
    private readonly pageSize: number,
  ) {}

  static async start(options: S3StandInOptions = {}): Promise<S3StandIn> {
    const server = http.createServer();
    const standIn = new S3StandIn(server, options.pageSize ?? 1000);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => standIn.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The environment that points the SDK's S3 client here (with dummy credentials). */
  env(): Record<string, string> {
    return { AWS_ENDPOINT_URL_S3: this.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** The keys a bucket holds, in S3's listing order. */
  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort(binaryOrder);
  }

  object(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const bucket = this.buckets.get(decodeURIComponent(bucketName));
    const key = keyParts.map(decodeURIComponent).join('/');
    if (!bucket) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') return this.list(res, decodeURIComponent(bucketName), bucket, url.searchParams);
    if (req.method === 'GET' && key !== '') {
      const object = bucket.get(key);
      if (!object) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'Content-Type': object.contentType, 'Content-Length': object.body.length, ETag: object.etag, 'Last-Modified': object.lastModified.toUTCString() });
      res.end(object.body);
      return;
    }
    if (req.method === 'PUT' && key !== '') {
      const chunked = /aws-chunked/.test(String(req.headers['content-encoding'] ?? '')) || /^STREAMING-/.test(String(req.headers['x-amz-content-sha256'] ?? ''));
      const content = chunked ? decodeAwsChunked(body) : body;
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      bucket.set(key, { body: content, etag, lastModified: new Date(), contentType: String(req.headers['content-type'] ?? 'binary/octet-stream') });
      res.writeHead(200, { ETag: etag, 'Content-Length': 0 });
      res.end();
      return;
    }
    this.error(res, 405, 'MethodNotAllowed', `${req.method} ${url.pathname} is not something this stand-in serves`);
  }

  private list(res: http.ServerResponse, name: string, bucket: Map<string, StoredObject>, params: URLSearchParams): void {
    const prefix = params.get('prefix') ?? '';
    const token = params.get('continuation-token') ?? undefined;
    const maxKeys = Math.min(Number(params.get('max-keys') ?? 1000), this.pageSize);
    this.listCalls.push({ bucket: name, prefix, ...(token ? { continuationToken: token } : {}) });
    // The token names the last key of the previous page (opaque to the client).
    const after = token ? Buffer.from(token, 'base64').toString('utf8') : undefined;
    const matching = [...bucket.keys()].filter((k) => k.startsWith(prefix) && (after === undefined || binaryOrder(k, after) > 0)).sort(binaryOrder);
    const page = matching.slice(0, maxKeys);
    const truncated = matching.length > page.length;
    const contents = page
      .map((k) => {
        const o = bucket.get(k)!;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xmlEscape(name)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
      contents +
      (token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
      (truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!, 'utf8').toString('base64')}</NextContinuationToken>` : '') +
      '</ListBucketResult>';
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>standin</RequestId></Error>`;
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml), 'x-amz-request-id': 'standin' });
    res.end(xml);
  }
}

function binaryOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
