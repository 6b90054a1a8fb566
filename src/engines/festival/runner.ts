/**
 * One long-lived `festival --pipe` child process and the small Scheme protocol spoken with it.
 *
 * Festival has no C API worth binding, so it runs as a child process: a crash or a hang costs that process,
 * never Parlance. The process loads the voice once (≈0.25 s, ≈350 MB resident) and then synthesizes one
 * sentence per request:
 * - we write `(parlance.say ID "text" "/tmp/…/file.wav" SPEED)` on stdin;
 * - it saves the wave to that file and prints, on stderr, one `T` line per token (text token, as Festival
 *   split the input), one `W` line per word of that token (start and end, seconds), one `P` line per segment
 *   (phone), and `OK ID` or `ERR ID`, then `END ID`.
 * stderr, because it is unbuffered: stdout to a pipe is block-buffered and would hold the answer back. Every
 * protocol line starts with `@parlance` + tab; anything else on stderr is Festival's own diagnostics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';

import { EngineError } from '../../domain/ports/engines.js';
import type { Logger } from '../../kernel/logger.js';

const TAG = '@parlance\t';
/** Festival diagnostics kept for error messages. */
const DIAGNOSTIC_LINES = 8;

export interface FestivalProcessOptions {
  /** The festival executable. */
  command: string;
  /** Festival voice name, e.g. "cmu_us_slt_arctic_hts" (selected with `(voice_<name>)`). */
  voice: string;
  /** Where the process writes its wave files (one file at a time, deleted once read). */
  wavPath: string;
  /** How long loading Festival and the voice may take before the start counts as failed. */
  startupTimeoutMs: number;
  logger: Logger;
}

/** A text token as Festival split it (punctuation stripped), with the words it became. */
export interface FestivalToken {
  name: string;
  /** Seconds; words without segments (punctuation) have start = end = 0. */
  words: Array<{ start: number; end: number }>;
}

export interface FestivalSegment {
  name: string;
  start: number;
  end: number;
}

export interface FestivalResult {
  /** The RIFF file Festival wrote. */
  wav: Buffer;
  tokens: FestivalToken[];
  segments: FestivalSegment[];
}

/** Escapes text for a Scheme string literal. Callers pass printable text only (no control characters). */
export function schemeString(text: string): string {
  if (/[\u0000-\u001f\u007f]/u.test(text)) throw new EngineError('Internal', 'control character in text for Festival');
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The Scheme loaded once per process: the voice, a warm-up synthesis, and `parlance.say`. */
function prelude(voice: string): string {
  const params = `${voice}::hts_engine_params`;
  return `
(define (parlance.words tok)
  (let ((ws (item.daughters tok)))
    (while ws
      (format stderr "${TAG}W\\t%s\\t%s\\n" (item.feat (car ws) "word_start") (item.feat (car ws) "word_end"))
      (set! ws (cdr ws)))))
(define (parlance.say id text wavfile speed)
  (unwind-protect
   (let ((utt nil) (tok nil) (seg nil))
     ;; HTS voices take their speed from hts_engine_params; other voices from Duration_Stretch.
     (if (symbol-bound? '${params})
         (set! hts_engine_params (append ${params} (list (list "-r" speed)))))
     (Parameter.set 'Duration_Stretch (/ 1 speed))
     (set! utt (utt.synth (eval (list 'Utterance 'Text text))))
     (utt.save.wave utt wavfile 'riff)
     (set! tok (utt.relation.first utt 'Token))
     (while tok
       (format stderr "${TAG}T\\t%s\\n" (item.name tok))
       (parlance.words tok)
       (set! tok (item.next tok)))
     (set! seg (utt.relation.first utt 'Segment))
     (while seg
       (format stderr "${TAG}P\\t%s\\t%s\\t%s\\n" (item.feat seg "segment_start") (item.feat seg "end") (item.name seg))
       (set! seg (item.next seg)))
     (format stderr "${TAG}OK\\t%d\\n" id))
   (format stderr "${TAG}ERR\\t%d\\n" id))
  (format stderr "${TAG}END\\t%d\\n" id))
(unwind-protect
 (begin
  (voice_${voice})
  (utt.synth (Utterance Text "ready"))
  (format stderr "${TAG}READY\\n"))
 (format stderr "${TAG}INITFAIL\\n"))
`;
}

interface Pending {
  id: number;
  tokens: FestivalToken[];
  segments: FestivalSegment[];
  ok: boolean;
  timer: NodeJS.Timeout;
  resolve(result: FestivalResult): void;
  reject(err: EngineError): void;
}

/**
 * One festival process, one request at a time (the engine schedules). A sentence Festival reports as failed
 * leaves the process running; a timeout or kill ends it.
 */
export class FestivalProcess {
  private readonly child: ChildProcess;
  private readonly log: Logger;
  private buffered = '';
  private readonly diagnostics: string[] = [];
  private pending: Pending | undefined;
  private nextId = 1;
  private started = false;
  private exited = false;
  private readonly startPromise: Promise<void>;
  private readonly exitPromise: Promise<void>;
  private onStarted: ((err?: EngineError) => void) | undefined;

  /** Set when a request took too long and the process was killed for it. */
  timedOut = false;

  /** Called once when the process has gone, whatever the reason. */
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => undefined;

  constructor(private readonly options: FestivalProcessOptions) {
    if (!/^[A-Za-z0-9_]+$/.test(options.voice)) throw new EngineError('ModelLoadFailed', `invalid Festival voice name '${options.voice}'`);
    this.log = options.logger;
    this.child = spawn(options.command, ['--pipe'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.startPromise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onStarted?.(new EngineError('ModelLoadFailed', `Festival did not load voice ${options.voice} within ${options.startupTimeoutMs} ms${this.lastDiagnostics()}`));
      }, options.startupTimeoutMs);
      this.onStarted = (err) => {
        this.onStarted = undefined;
        clearTimeout(timer);
        if (err === undefined) {
          this.started = true;
          resolve();
        } else {
          this.kill();
          reject(err);
        }
      };
    });
    // Reported through start() or through the engine's ready(); never unhandled.
    this.startPromise.catch(() => undefined);
    this.exitPromise = new Promise<void>((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exited = true;
        const detail = `Festival exited (${signal ?? `code ${String(code)}`})${this.lastDiagnostics()}`;
        this.onStarted?.(new EngineError('ModelLoadFailed', detail));
        this.failPending(new EngineError('Internal', detail));
        resolve();
        this.onExit(code, signal);
      });
    });
    this.child.once('error', (err) => {
      // ENOENT (not installed) and the like; 'close' follows and settles everything else.
      this.onStarted?.(new EngineError('ModelLoadFailed', `cannot run ${options.command} (apt-get install festival): ${err.message}`, { cause: err }));
    });
    // A write to a process that just died fails with EPIPE; 'close' reports the death itself.
    this.child.stdin?.on('error', () => undefined);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.onStderr(chunk));
    this.child.stdin?.write(prelude(options.voice));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Resolves when the voice is loaded and warmed up. @throws EngineError `ModelLoadFailed`. */
  start(): Promise<void> {
    return this.startPromise;
  }

  /**
   * Synthesizes one sentence (printable text, at most a few hundred characters) at HTS speed `speed`
   * (1 = normal, 2 = twice as fast). A request that takes longer than `timeoutMs` kills the process.
   */
  synthesize(text: string, speed: number, timeoutMs: number): Promise<FestivalResult> {
    if (!this.started || this.exited) return Promise.reject(new EngineError('Internal', 'Festival process is not running'));
    if (this.pending !== undefined) return Promise.reject(new EngineError('Internal', 'Festival process is busy'));
    const id = this.nextId++;
    const command = `(parlance.say ${id} ${schemeString(text)} ${schemeString(this.options.wavPath)} ${speed.toFixed(4)})\n`;
    return new Promise<FestivalResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A hung Festival cannot be asked to stop: the process goes, and the engine starts another.
        this.timedOut = true;
        this.failPending(new EngineError('Internal', `Festival did not finish a sentence within ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.pending = { id, tokens: [], segments: [], ok: false, timer, resolve, reject };
      this.child.stdin?.write(command);
    });
  }

  /** Ends the process at once (SIGKILL); an in-flight request fails with `Internal`. */
  kill(): void {
    if (this.exited) return;
    this.child.kill('SIGKILL');
  }

  /** Lets the process end by closing its stdin (it exits at EOF); SIGKILL after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    if (this.exited) return;
    if (this.pending !== undefined) this.kill();
    else this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  private onStderr(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.startsWith(TAG)) this.onProtocolLine(line.slice(TAG.length).split('\t'));
      else if (line.trim() !== '') this.onDiagnostic(line);
    }
    // A line without end this long is not ours; do not let it grow without bound.
    if (this.buffered.length > 65_536) {
      this.onDiagnostic(this.buffered.slice(0, 200));
      this.buffered = '';
    }
  }

  private onDiagnostic(line: string): void {
    this.diagnostics.push(line);
    if (this.diagnostics.length > DIAGNOSTIC_LINES) this.diagnostics.shift();
    this.log.debug({ festival: line }, 'festival diagnostic');
  }

  private lastDiagnostics(): string {
    return this.diagnostics.length === 0 ? '' : `: ${this.diagnostics.slice(-3).join(' | ')}`;
  }

  private onProtocolLine(fields: string[]): void {
    const [kind, a = '', b = ''] = fields;
    if (kind === 'READY') return this.onStarted?.();
    if (kind === 'INITFAIL') {
      return this.onStarted?.(new EngineError('ModelLoadFailed', `Festival could not load voice ${this.options.voice} (apt-get install festvox-us-slt-hts)${this.lastDiagnostics()}`));
    }
    const p = this.pending;
    if (p === undefined) return;
    switch (kind) {
      case 'T':
        // Token names never contain tabs (Festival splits tokens at whitespace); rejoin just in case.
        p.tokens.push({ name: fields.slice(1).join('\t'), words: [] });
        return;
      case 'W':
        p.tokens[p.tokens.length - 1]?.words.push({ start: Number(a), end: Number(b) });
        return;
      case 'P':
        p.segments.push({ start: Number(a), end: Number(b), name: fields.slice(3).join('\t') });
        return;
      case 'OK':
        if (Number(a) === p.id) p.ok = true;
        return;
      case 'ERR':
        return;
      case 'END':
        if (Number(a) === p.id) void this.complete(p);
        return;
      default:
        return;
    }
  }

  private async complete(p: Pending): Promise<void> {
    clearTimeout(p.timer);
    if (!p.ok) {
      this.pending = undefined;
      p.reject(new EngineError('Internal', `Festival failed to synthesize a sentence${this.lastDiagnostics()}`));
      return;
    }
    let wav: Buffer;
    try {
      wav = await fs.readFile(this.options.wavPath);
      // Users' speech does not stay on disk longer than needed.
      await fs.rm(this.options.wavPath, { force: true });
    } catch (err) {
      if (this.pending === p) this.pending = undefined;
      p.reject(new EngineError('Internal', `cannot read Festival's wave file ${this.options.wavPath}`, { cause: err }));
      return;
    }
    // The process may have been killed while we read; the request was failed then.
    if (this.pending !== p) return;
    this.pending = undefined;
    p.resolve({ wav, tokens: p.tokens, segments: p.segments });
  }

  private failPending(err: EngineError): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(err);
  }
}
