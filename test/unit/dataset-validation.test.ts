import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DATASET_LIMITS,
  archiveProblem,
  entryNameProblem,
  isoDuration,
  LineSplitter,
  parseTranscriptLine,
  pronunciationLineProblem,
  languageLineProblem,
  validateArchiveDataset,
  validateTextDataset,
  wavInfo,
  type SplitLine,
} from '../../src/domain/customspeech/dataset-validation.js';
import { DatasetService } from '../../src/domain/customspeech/dataset-service.js';
import type { Dataset } from '../../src/domain/customspeech/dataset.js';
import type { SpeechEntity, SpeechEntityKind } from '../../src/domain/customspeech/entities.js';
import type { Archive, ArchiveEntry } from '../../src/domain/ports/archive-reader.js';
import { VersionConflictError, type SpeechEntityRepository, type Versioned } from '../../src/domain/ports/repositories.js';
import { ContentFetchError } from '../../src/domain/ports/content-fetcher.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { HmacDownloadSigner } from '../../src/security/download-signer.js';
import { FileBlobStore } from '../../src/storage/blobs/file-blob-store.js';
import { UrlContentFetcher } from '../../src/storage/blobs/url-fetcher.js';
import { ZipArchiveReader } from '../../src/storage/blobs/zip-archive-reader.js';
import { wavFromPcm, silencePcm } from '../helpers/wav.js';
import { buildZip } from '../helpers/zip.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function split(chunks: Uint8Array[], maxLineChars = 500, maxLines = 1000): SplitLine[] {
  const out: SplitLine[] = [];
  const s = new LineSplitter('The file', maxLineChars, maxLines);
  for (const c of chunks) s.push(c, (l) => out.push(l));
  s.end((l) => out.push(l));
  return out;
}

function line(text: string, tooLong = false): SplitLine {
  return { n: 1, text, tooLong };
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('dataset validation: line splitting and UTF-8', () => {
  it('splits LF and CRLF lines, strips a BOM, keeps a last line without a break', () => {
    const lines = split([enc('\uFEFFhello world\r\nsecond\n\nlast')]);
    assert.deepEqual(
      lines.map((l) => [l.n, l.text]),
      [
        [1, 'hello world'],
        [2, 'second'],
        [3, ''],
        [4, 'last'],
      ],
    );
  });

  it('handles a multi-byte character split across chunks, and a BOM split across chunks', () => {
    const bytes = enc('\uFEFFcafé ☕ 𝄞\n');
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(
      split(chunks).map((l) => l.text),
      ['café ☕ 𝄞'],
    );
  });

  it('refuses invalid UTF-8 with the byte offset: stray continuation, overlong, surrogate, above U+10FFFF, truncated', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x80], 1],
      [[0x61, 0x62, 0xc0, 0x80], 2],
      [[0xe0, 0x80, 0x80], 0],
      [[0xed, 0xa0, 0x80], 0],
      [[0xf4, 0x90, 0x80, 0x80], 0],
      [[0xf5, 0x80], 0],
      [[0x61, 0xe2, 0x82], 1],
      [[0x61, 0xe2, 0x82, 0x41], 1],
    ];
    for (const [bytes, at] of cases) {
      assert.throws(
        () => split([Uint8Array.from(bytes)]),
        (err: Error & { code?: string }) => err.code === 'InvalidEncoding' && err.message.includes(`byte offset ${at}`),
        `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`,
      );
    }
  });

  it('names UTF-16 as such, and refuses NUL bytes as binary data', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi\n', 'utf16le')]);
    assert.throws(() => split([utf16]), /UTF-16/);
    assert.throws(
      () => split([enc('ok\nbin\u0000ary\n')]),
      (err: Error & { code?: string }) => err.code === 'BinaryContent' && /NUL bytes \(at byte offset 6\)/.test(err.message),
    );
  });

  it('reports lines over the bound as too long without keeping them, and bounds the line count', () => {
    const lines = split([enc('short\n'), enc('x'.repeat(3000)), enc('y'.repeat(3000) + '\nnext\n')], 500);
    assert.deepEqual(
      lines.map((l) => [l.text, l.tooLong]),
      [
        ['short', false],
        ['', true],
        ['next', false],
      ],
    );
    // 501 characters of 1 byte each stay under the byte bound but over the character bound.
    assert.equal(split([enc('é'.repeat(501))], 500)[0]?.tooLong, true);
    assert.equal(split([enc('é'.repeat(500))], 500)[0]?.tooLong, false);
    assert.throws(() => split([enc('a\nb\nc\n')], 500, 2), (err: Error & { code?: string }) => err.code === 'TooManyLines');
  });
});

describe('dataset validation: line rules', () => {
  it('Language: empty, too long and control-character lines are rejected', () => {
    assert.equal(languageLineProblem(line('Turn the lights on')), undefined);
    assert.match(languageLineProblem(line('   ')) ?? '', /empty/);
    assert.match(languageLineProblem(line('', true)) ?? '', /longer than 500/);
    assert.match(languageLineProblem(line('bell\u0007')) ?? '', /control/);
    assert.equal(languageLineProblem(line('tab\tinside is fine')), undefined);
  });

  it('Pronunciation: exactly one tab, both sides, spoken form of letters, apostrophes and spaces', () => {
    assert.equal(pronunciationLineProblem(line('3CPO\tthree c p o')), undefined);
    assert.equal(pronunciationLineProblem(line("CNTK\tc n t k")), undefined);
    assert.equal(pronunciationLineProblem(line("O'Neil\to'neil")), undefined);
    assert.equal(pronunciationLineProblem(line('Zürich\tzürich')), undefined);
    assert.match(pronunciationLineProblem(line('no tab here')) ?? '', /exactly one tab/);
    assert.match(pronunciationLineProblem(line('a\tb\tc')) ?? '', /exactly one tab\), found 2 tabs/);
    assert.match(pronunciationLineProblem(line('\tspoken')) ?? '', /display form is empty/);
    assert.match(pronunciationLineProblem(line('Display\t  ')) ?? '', /spoken form is empty/);
    assert.match(pronunciationLineProblem(line('R2D2\tr 2 d 2')) ?? '', /only letters/);
    assert.match(pronunciationLineProblem(line('A-B\ta-b')) ?? '', /only letters/);
  });

  it('transcription lines: file name, tab, transcription', () => {
    assert.deepEqual(parseTranscriptLine(line('a.wav\thello world')), { file: 'a.wav', text: 'hello world' });
    assert.deepEqual(parseTranscriptLine(line('dir/a.wav\t  hi  ')), { file: 'dir/a.wav', text: 'hi' });
    assert.match((parseTranscriptLine(line('a.wav hello')) as { problem: string }).problem, /no tab/);
    assert.match((parseTranscriptLine(line('a.wav\t')) as { problem: string }).problem, /transcription of 'a.wav' is empty/);
    assert.match((parseTranscriptLine(line('\thello')) as { problem: string }).problem, /file name is empty/);
  });
});

describe('dataset validation: text datasets', () => {
  it('counts accepted and rejected Language lines', async () => {
    const text = `\uFEFFTurn on the lights\n\nWhat's the weather like\n${'x'.repeat(600)}\nCall mom\n`;
    const out = await validateTextDataset('Language', [enc(text)]);
    assert.equal(out.status, 'Succeeded');
    assert.equal(out.acceptedLineCount, 3);
    assert.equal(out.rejectedLineCount, 2);
    assert.deepEqual(
      out.rejections.map((r) => [r.line, r.reason]),
      [
        [2, 'the line is empty'],
        [4, 'the line is longer than 500 characters'],
      ],
    );
  });

  it('fails empty, blank, binary and non-UTF-8 files with clear errors', async () => {
    const empty = await validateTextDataset('Language', []);
    assert.deepEqual([empty.status, empty.error?.code, empty.error?.message], ['Failed', 'EmptyFile', 'The file is empty.']);
    const blank = await validateTextDataset('Language', [enc('\n  \n\n')]);
    assert.equal(blank.error?.code, 'NoValidLines');
    assert.match(blank.error?.message ?? '', /no usable line.*line 1: the line is empty/);
    const latin1 = await validateTextDataset('Language', [Buffer.from('caf\xe9 cr\xe8me\n', 'latin1')]);
    assert.equal(latin1.error?.code, 'InvalidEncoding');
    assert.match(latin1.error?.message ?? '', /not valid UTF-8 text \(invalid byte sequence at byte offset 3, line 1\)/);
    const binary = await validateTextDataset('Pronunciation', [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00])]);
    assert.equal(binary.error?.code, 'BinaryContent');
  });

  it('bounds the file size', async () => {
    const out = await validateTextDataset('Language', [enc('a\n'.repeat(100))], { ...DATASET_LIMITS, maxTextBytes: 50 });
    assert.equal(out.error?.code, 'DatasetTooLarge');
  });

  it('Pronunciation files fail when no line is usable', async () => {
    const good = await validateTextDataset('Pronunciation', [enc('3CPO\tthree c p o\nbad line\n')]);
    assert.deepEqual([good.status, good.acceptedLineCount, good.rejectedLineCount], ['Succeeded', 1, 1]);
    const bad = await validateTextDataset('Pronunciation', [enc('just words\nmore words\n')]);
    assert.equal(bad.status, 'Failed');
    assert.match(bad.error?.message ?? '', /display form<TAB>spoken form/);
  });
});

describe('dataset validation: archives', () => {
  const wav = (ms: number, rate = 16_000): Buffer => wavFromPcm(silencePcm(ms, rate), rate);

  it('entry names: absolute, drive, traversal, backslash are unsafe', () => {
    assert.equal(entryNameProblem('audio/a.wav'), undefined);
    assert.match(entryNameProblem('/etc/passwd') ?? '', /absolute/);
    assert.match(entryNameProblem('C:/x.wav') ?? '', /absolute/);
    assert.match(entryNameProblem('a/../../x.wav') ?? '', /outside the archive/);
    assert.match(entryNameProblem('a\\b.wav') ?? '', /backslash/);
  });

  it('archive bounds: entry count, expanded size, compression ratio', () => {
    const e = (name: string, c: number, u: number): ArchiveEntry => ({ name, compressedSize: c, uncompressedSize: u });
    const limits = { ...DATASET_LIMITS, maxArchiveEntries: 2, maxUncompressedBytes: 1000, ratioCheckAboveBytes: 100, maxCompressionRatio: 10 };
    assert.equal(archiveProblem([e('a', 10, 50), e('b', 10, 50)], 100, limits), undefined);
    assert.match(archiveProblem([e('a', 1, 1), e('b', 1, 1), e('c', 1, 1)], 10, limits)?.message ?? '', /3 entries; at most 2/);
    assert.match(archiveProblem([e('a', 10, 600), e('b', 10, 600)], 10_000, limits)?.message ?? '', /expands to more than 1000/);
    assert.match(archiveProblem([e('a', 10, 900)], 50, limits)?.message ?? '', /zip bomb/);
  });

  it('WAV info: duration from the header, low rates and garbage refused', () => {
    const w = wav(1500);
    assert.deepEqual(wavInfo(w.subarray(0, 1024), w.length), { durationMs: 1500 });
    assert.match((wavInfo(wav(100, 4000), 1000) as { problem: string }).problem, /below 8 kHz/);
    assert.match((wavInfo(enc('not a wav at all'), 16) as { problem: string }).problem, /not a RIFF\/WAVE/);
    assert.match((wavInfo(wav(0), 44) as { problem: string }).problem, /no audio/);
  });

  it('ISO 8601 durations', () => {
    assert.equal(isoDuration(0), 'PT0S');
    assert.equal(isoDuration(2580), 'PT2.58S');
    assert.equal(isoDuration(62_500), 'PT1M2.5S');
    assert.equal(isoDuration(3_600_000), 'PT1H');
  });

  describe('with the zip reader over the blob store', () => {
    let dir: string;
    let blobs: FileBlobStore;
    let reader: ZipArchiveReader;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'parlance-zip-'));
      blobs = new FileBlobStore(dir);
      reader = new ZipArchiveReader(blobs);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const run = async (kind: 'Acoustic' | 'AudioFiles', zip: Buffer, limits = DATASET_LIMITS) => {
      await blobs.put('t/archive', zip);
      const archive = await reader.open('t/archive', { maxEntries: limits.maxArchiveEntries });
      try {
        return await validateArchiveDataset(kind, archive, limits);
      } finally {
        await archive.close();
      }
    };

    it('Acoustic: transcriptions match audio by path, relative path or base name; problems are counted', async () => {
      const zip = buildZip([
        { name: 'a.wav', data: wav(1000) },
        { name: 'sub/b.wav', data: wav(500), method: 0 },
        { name: 'sub/c.wav', data: wav(250) },
        { name: 'bad.wav', data: 'garbage' },
        { name: 'notes.md', data: 'ignored' },
        { name: 'trans.txt', data: '\uFEFFa.wav\thello world\r\nb.wav\tsecond one\nmissing.wav\tnot there\nbad.wav\tbroken audio\na.wav\tduplicate\nno tab\n\n' },
        { name: 'sub/more.txt', data: 'c.wav\tthird\n' },
      ]);
      const out = await run('Acoustic', zip);
      assert.equal(out.status, 'Succeeded');
      assert.equal(out.acceptedLineCount, 3);
      assert.equal(out.rejectedLineCount, 4);
      assert.equal(out.durationMs, 1750);
      assert.deepEqual(
        out.rejections.map((r) => `${r.file}:${r.line}`),
        ['trans.txt:3', 'trans.txt:4', 'trans.txt:5', 'trans.txt:6'],
      );
      assert.match(out.rejections[0]?.reason ?? '', /'missing.wav' is not in the archive/);
      assert.match(out.rejections[1]?.reason ?? '', /cannot be used: Invalid WAV header/);
      assert.match(out.rejections[2]?.reason ?? '', /already has a transcription/);
      assert.ok(out.notes.some((n) => n.includes('notes.md')));
    });

    it('Acoustic: fails without transcriptions, without audio, or when no line is usable', async () => {
      assert.equal((await run('Acoustic', buildZip([{ name: 'a.wav', data: wav(100) }]))).error?.code, 'MissingTranscriptions');
      assert.equal((await run('Acoustic', buildZip([{ name: 't.txt', data: 'a.wav\thi\n' }]))).error?.code, 'NoAudioFiles');
      const none = await run('Acoustic', buildZip([{ name: 'a.wav', data: wav(100) }, { name: 't.txt', data: 'b.wav\thi\n' }]));
      assert.equal(none.error?.code, 'NoValidLines');
      assert.match(none.error?.message ?? '', /t\.txt, line 1: the audio file 'b\.wav' is not in the archive/);
      const latin1 = await run('Acoustic', buildZip([{ name: 'a.wav', data: wav(100) }, { name: 't.txt', data: Buffer.from('a.wav\tcaf\xe9\n', 'latin1') }]));
      assert.equal(latin1.error?.code, 'InvalidEncoding');
      assert.match(latin1.error?.message ?? '', /t\.txt' is not valid UTF-8/);
    });

    it('AudioFiles: every .wav counts', async () => {
      const out = await run('AudioFiles', buildZip([{ name: 'a.wav', data: wav(400) }, { name: 'b.wav', data: 'nope' }, { name: 'dir/', data: '' }]));
      assert.deepEqual([out.status, out.acceptedLineCount, out.rejectedLineCount, out.durationMs], ['Succeeded', 1, 1, 400]);
    });

    it('refuses traversal paths, non-zips, corrupt entries and bombs', async () => {
      await blobs.put('t/evil', buildZip([{ name: '../evil.wav', data: wav(100) }, { name: 't.txt', data: 'evil.wav\thi\n' }]));
      await assert.rejects(reader.open('t/evil', { maxEntries: 10 }), /unsafe entry path \(invalid relative path: \.\.\/evil\.wav\)/);
      await blobs.put('t/abs', buildZip([{ name: '/abs.wav', data: wav(100) }]));
      await assert.rejects(reader.open('t/abs', { maxEntries: 10 }), /unsafe entry path \(absolute path/);
      await blobs.put('t/text', enc('just some text, not a zip'));
      await assert.rejects(reader.open('t/text', { maxEntries: 10 }), (err: Error) => err.name === 'ArchiveError');
      await assert.rejects(reader.open('t/evil', { maxEntries: 1 }), /2 entries; at most 1/);

      const corrupt = buildZip([{ name: 'a.wav', data: wav(100) }, { name: 't.txt', data: 'a.wav\thello\n', method: 0 }]);
      const at = corrupt.indexOf('hello');
      corrupt.write('jello', at, 'latin1');
      const out = await run('Acoustic', corrupt);
      assert.equal(out.error?.code, 'InvalidArchive');
      assert.match(out.error?.message ?? '', /CRC mismatch/);

      // Declares 100 MB for a few bytes: refused by ratio before anything is inflated.
      const bomb = buildZip([{ name: 'a.wav', data: wav(10), declaredSize: 100 * 1024 * 1024 }, { name: 't.txt', data: 'a.wav\thi\n' }]);
      const refused = await run('Acoustic', bomb);
      assert.equal(refused.error?.code, 'InvalidArchive');
      assert.match(refused.error?.message ?? '', /zip bomb/);
    });
  });

  it('works over any Archive implementation (in-memory fake)', async () => {
    const files = new Map<string, Buffer>([
      ['x.wav', wav(200)],
      ['x.txt', enc('x.wav\thello\n')],
    ]);
    const archive: Archive = {
      entries: [...files].map(([name, data]) => ({ name, compressedSize: data.length, uncompressedSize: data.length })),
      archiveBytes: 1000,
      async read(name, opts) {
        const data = files.get(name) ?? Buffer.alloc(0);
        return opts.prefixOnly ? data.subarray(0, opts.maxBytes) : data;
      },
      async close() {},
    };
    const out = await validateArchiveDataset('Acoustic', archive);
    assert.deepEqual([out.status, out.acceptedLineCount, out.durationMs], ['Succeeded', 1, 200]);
  });
});

describe('download signer (HMAC)', () => {
  const signer = new HmacDownloadSigner(new Uint8Array(32).fill(7));
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('round-trips, and refuses tampered, expired and malformed links', () => {
    const s = signer.sign('datasets/abc/report.json', now + 60_000);
    assert.equal(s.se, '2026-01-01T00:01:00Z');
    assert.deepEqual(signer.verify(s.token, s.se, s.sig, now), { ok: true, key: 'datasets/abc/report.json' });
    const other = signer.sign('datasets/xyz/report.json', now + 60_000);
    assert.deepEqual(signer.verify(other.token, s.se, s.sig, now), { ok: false, reason: 'signature' });
    assert.deepEqual(signer.verify(s.token, '2026-01-02T00:01:00Z', s.sig, now), { ok: false, reason: 'signature' });
    const flipped = (s.sig[0] === 'A' ? 'B' : 'A') + s.sig.slice(1);
    assert.deepEqual(signer.verify(s.token, s.se, flipped, now), { ok: false, reason: 'signature' });
    assert.deepEqual(signer.verify(s.token, s.se, s.sig, now + 60_000), { ok: false, reason: 'expired' });
    assert.deepEqual(signer.verify(s.token, 'tomorrow', s.sig, now), { ok: false, reason: 'malformed' });
    assert.deepEqual(signer.verify('a/b', s.se, s.sig, now), { ok: false, reason: 'malformed' });
    const otherKey = new HmacDownloadSigner(new Uint8Array(32).fill(8));
    assert.deepEqual(otherKey.verify(s.token, s.se, s.sig, now), { ok: false, reason: 'signature' });
    assert.throws(() => new HmacDownloadSigner(new Uint8Array(16)), RangeError);
  });
});

describe('URL content fetcher', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const hops = Number(url.searchParams.get('hops') ?? 0);
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: hops > 1 ? `/redirect?hops=${hops - 1}` : '/data.txt' }).end();
      } else if (url.pathname === '/data.txt') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('hello\n');
      } else if (url.pathname === '/ftp') {
        res.writeHead(301, { location: 'ftp://example.invalid/x' }).end();
      } else if (url.pathname === '/big') {
        res.writeHead(200);
        res.write(Buffer.alloc(1000));
        res.end(Buffer.alloc(1000));
      } else {
        res.writeHead(404, 'Not Found').end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const fetcher = new UrlContentFetcher({ timeoutMs: 5000 });

  it('follows up to 5 redirects, each checked', async () => {
    assert.equal((await drain(await fetcher.fetch(`${base}/redirect?hops=5`, { maxBytes: 100 }))).toString(), 'hello\n');
    await assert.rejects(fetcher.fetch(`${base}/redirect?hops=6`, { maxBytes: 100 }), /more than 5 times/);
    await assert.rejects(fetcher.fetch(`${base}/ftp`, { maxBytes: 100 }), /http or https, not ftp:/);
    await assert.rejects(fetcher.fetch('file:///etc/passwd', { maxBytes: 100 }), ContentFetchError);
  });

  it('reports HTTP errors and unreachable hosts without the query string, and bounds the size', async () => {
    await assert.rejects(fetcher.fetch(`${base}/nope?sig=SECRET`, { maxBytes: 100 }), (err: Error) => /answered HTTP 404/.test(err.message) && !err.message.includes('SECRET'));
    await assert.rejects(drain(await fetcher.fetch(`${base}/big`, { maxBytes: 1500 })), /exceeds 1500 bytes/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(fetcher.fetch(`http://127.0.0.1:${port}/x`, { maxBytes: 100 }), /could not be reached \(ECONNREFUSED\)/);
  });
});

/** SpeechEntityRepository in memory, with versions (what the SQL one does). */
class MemoryRepo implements SpeechEntityRepository {
  readonly rows = new Map<string, { value: SpeechEntity; version: number }>();
  async list<K extends SpeechEntityKind>(accountId: string, kind: K) {
    return [...this.rows.values()].filter((r) => r.value.accountId === accountId && r.value.kind === kind).map((r) => structuredClone(r.value)) as Extract<SpeechEntity, { kind: K }>[];
  }
  async get<K extends SpeechEntityKind>(accountId: string, kind: K, id: string) {
    const r = this.rows.get(id);
    return r && r.value.accountId === accountId && r.value.kind === kind ? ({ value: structuredClone(r.value), version: r.version } as Versioned<Extract<SpeechEntity, { kind: K }>>) : undefined;
  }
  async listByStatus<K extends SpeechEntityKind>(kind: K, statuses: readonly string[]) {
    return [...this.rows.values()].filter((r) => r.value.kind === kind && 'status' in r.value && statuses.includes(r.value.status)).map((r) => structuredClone(r.value)) as Extract<SpeechEntity, { kind: K }>[];
  }
  async listAll<K extends SpeechEntityKind>(kind: K) {
    return [...this.rows.values()].filter((r) => r.value.kind === kind).map((r) => structuredClone(r.value)) as Extract<SpeechEntity, { kind: K }>[];
  }
  async insert(e: SpeechEntity) {
    this.rows.set(e.id, { value: structuredClone(e), version: 1 });
  }
  async update(e: SpeechEntity, expectedVersion: number) {
    const r = this.rows.get(e.id);
    if (!r || r.version !== expectedVersion) throw new VersionConflictError('stale');
    this.rows.set(e.id, { value: structuredClone(e), version: expectedVersion + 1 });
    return expectedVersion + 1;
  }
  async delete(_accountId: string, _kind: SpeechEntityKind, id: string) {
    return this.rows.delete(id);
  }
}

describe('DatasetService (in memory)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parlance-ds-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const make = (repo: MemoryRepo) => {
    const blobs = new FileBlobStore(dir);
    const service = new DatasetService({
      repo,
      blobs,
      fetcher: new UrlContentFetcher(),
      archives: new ZipArchiveReader(blobs),
      clock: { now: () => Date.now() },
      logger: silentLogger,
      locales: ['en-US'],
    });
    return { service, blobs };
  };
  const base = (id: string, over: Partial<Dataset>): Dataset => ({
    kind: 'dataset',
    id,
    accountId: 'acc',
    displayName: 'd',
    locale: 'en-US',
    datasetKind: 'Language',
    status: 'Running',
    createdAt: '2026-01-01T00:00:00Z',
    lastActionAt: '2026-01-01T00:00:00Z',
    ...over,
  });

  it('resume validates what was left Running with its content, fails uploads whose content is missing, leaves block uploads alone', async () => {
    const repo = new MemoryRepo();
    const { service, blobs } = make(repo);
    await blobs.put('datasets/11111111-1111-4111-8111-111111111111/content', enc('one\ntwo\n'));
    const file = { id: 'f1', name: 'data.txt', fileKind: 'LanguageData' as const, key: 'datasets/11111111-1111-4111-8111-111111111111/content', size: 8, createdAt: '2026-01-01T00:00:00Z' };
    await repo.insert(base('11111111-1111-4111-8111-111111111111', { files: [file] }));
    await repo.insert(base('22222222-2222-4222-8222-222222222222', { status: 'NotStarted', files: [{ ...file, key: 'datasets/22222222-2222-4222-8222-222222222222/content' }] }));
    await repo.insert(base('33333333-3333-4333-8333-333333333333', { status: 'NotStarted', uploading: true, uncommittedBlocks: [] }));
    await service.resume();
    await service.settled();
    const one = await service.get('acc', '11111111-1111-4111-8111-111111111111');
    assert.deepEqual([one.status, one.acceptedLineCount, one.rejectedLineCount], ['Succeeded', 2, 0]);
    assert.deepEqual(
      one.files?.map((f) => f.fileKind),
      ['LanguageData', 'DatasetReport'],
    );
    const report = JSON.parse((await blobs.read('datasets/11111111-1111-4111-8111-111111111111/report.json', 1e6))?.toString() ?? '{}');
    assert.equal(report.acceptedLineCount, 2);
    const two = await service.get('acc', '22222222-2222-4222-8222-222222222222');
    assert.equal(two.status, 'Failed');
    assert.equal(two.error?.code, 'DataImportFailed');
    assert.match(two.error?.message ?? '', /content is missing/);
    assert.equal((await service.get('acc', '33333333-3333-4333-8333-333333333333')).status, 'NotStarted');
    await service.close();
  });

  it('block uploads: ids must be base64 of at most 64 bytes; parallel blocks are all recorded; commit assembles in order', async () => {
    const repo = new MemoryRepo();
    const { service, blobs } = make(repo);
    const d = await service.create('acc', { displayName: 'blocks', locale: 'en-us', kind: 'Language' });
    assert.equal(d.locale, 'en-US');
    assert.equal(d.uploading, true);
    await assert.rejects(service.putBlock('acc', d.id, 'not base64!', enc('x')), /base64/);
    await assert.rejects(service.putBlock('acc', d.id, Buffer.alloc(65).toString('base64'), enc('x')), /base64/);
    const ids = Array.from({ length: 8 }, (_, i) => Buffer.from(`block-${i}`).toString('base64'));
    await Promise.all(ids.map((id, i) => service.putBlock('acc', d.id, id, enc(`line ${i}\n`))));
    assert.equal((await service.listBlocks('acc', d.id)).uncommitted.length, 8);
    await assert.rejects(service.commitBlocks('acc', d.id, [{ kind: 'Committed', id: ids[0] as string }]), /committed block .* does not exist/);
    await service.commitBlocks('acc', d.id, [...ids].reverse().map((id) => ({ kind: 'Latest', id })));
    const content = await blobs.read(`datasets/${d.id}/content`, 1e6);
    assert.equal(content?.toString(), Array.from({ length: 8 }, (_, i) => `line ${7 - i}\n`).join(''));
    await assert.rejects(service.putBlock('acc', d.id, ids[0] as string, enc('late')), /does not accept blocks/);
    await service.settled();
    const done = await service.get('acc', d.id);
    assert.deepEqual([done.status, done.acceptedLineCount, done.uploading], ['Succeeded', 8, undefined]);
    assert.equal((await service.listBlocks('acc', d.id)).committed.length, 8);
    await service.close();
  });

  it('reads the accepted lines of Succeeded Language and Pronunciation datasets for training', async () => {
    const repo = new MemoryRepo();
    const { service, blobs } = make(repo);
    const put = async (id: string, datasetKind: Dataset['datasetKind'], text: string, over: Partial<Dataset> = {}): Promise<void> => {
      await blobs.put(`datasets/${id}/content`, enc(text));
      const file = { id: 'f', name: 'data.txt', fileKind: 'LanguageData' as const, key: `datasets/${id}/content`, size: text.length, createdAt: '2026-01-01T00:00:00Z' };
      await repo.insert(base(id, { datasetKind, status: 'Succeeded', files: [file], ...over }));
    };
    await put('55555555-5555-4555-8555-555555555555', 'Language', 'turn it on\n\n  call mom  \n');
    await put('66666666-6666-4666-8666-666666666666', 'Pronunciation', '3CPO\tthree  c p o\nbad\n');
    await put('77777777-7777-4777-8777-777777777777', 'Language', 'x\n', { status: 'Failed' });
    await put('88888888-8888-4888-8888-888888888888', 'Acoustic', 'x\n');
    const lang = await service.readForTraining('acc', '55555555-5555-4555-8555-555555555555', 'en-us');
    assert.deepEqual(lang.sentences, ['turn it on', 'call mom']);
    const pron = await service.readForTraining('acc', '66666666-6666-4666-8666-666666666666', 'en-US');
    assert.deepEqual(pron.pronunciations, [{ displayForm: '3CPO', spokenForm: 'three c p o' }]);
    await assert.rejects(service.readForTraining('acc', '55555555-5555-4555-8555-555555555555', 'de-DE'), /does not match de-DE/);
    await assert.rejects(service.readForTraining('acc', '77777777-7777-4777-8777-777777777777', 'en-US'), /is Failed/);
    await assert.rejects(service.readForTraining('acc', '88888888-8888-4888-8888-888888888888', 'en-US'), /Acoustic datasets cannot be used/);
    await assert.rejects(service.readForTraining('other', '55555555-5555-4555-8555-555555555555', 'en-US'), /does not exist/);
    await service.close();
  });

  it('rejects unknown kinds and locales, and unsupported kinds by name', async () => {
    const { service } = make(new MemoryRepo());
    await assert.rejects(service.create('acc', { displayName: 'x', locale: 'en-US', kind: 'Nope' }), /not a dataset kind/);
    await assert.rejects(service.create('acc', { displayName: 'x', locale: 'en-US', kind: 'LanguageMarkdown' }), /not supported by this service/);
    await assert.rejects(service.create('acc', { displayName: 'x', locale: 'xx-XX', kind: 'Language' }), /locale 'xx-XX' is not supported/);
    await assert.rejects(service.create('acc', { displayName: 'x', locale: 'en-US', kind: 'Language', contentUrl: 'data:text/plain,hi' }), /http or https/);
    await assert.rejects(service.create('acc', { displayName: 'x', locale: 'en-US', kind: 'Language', projectId: '44444444-4444-4444-8444-444444444444' }), /project .* does not exist/);
    await service.close();
  });
});

