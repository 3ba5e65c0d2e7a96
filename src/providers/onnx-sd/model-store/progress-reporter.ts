import cliProgress from 'cli-progress';
import { formatBytes } from './format-bytes.js';

/** The stream a reporter writes to; `isTTY` decides between a live bar and plain lines. */
export interface ProgressStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
}

export interface ByteProgressReporter {
  /** Overall bytes done of total, and the file being worked on. */
  update(done: number, total: number, file: string | undefined): void;
  stop(): void;
}

/**
 * A progress display for long byte counts: a cli-progress bar on a terminal, and on anything
 * else (docker logs, CI, a pipe) one plain line per 10 %, so logs stay short and readable.
 */
export function createByteProgressReporter(stream: ProgressStream, label: string): ByteProgressReporter {
  return stream.isTTY === true ? barReporter(stream, label) : lineReporter(stream, label);
}

function barReporter(stream: ProgressStream, label: string): ByteProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format: `${label} |{bar}| {percentage}% {doneText} of {totalText} {file}`,
      hideCursor: false,
      barsize: 30,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, file) {
      const payload = { doneText: formatBytes(done), totalText: formatBytes(total), file: file ?? '' };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function lineReporter(stream: ProgressStream, label: string): ByteProgressReporter {
  let lastTenth = -1;
  return {
    update(done, total, file) {
      if (total <= 0) return;
      const tenth = Math.min(10, Math.floor((done / total) * 10));
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label}: ${tenth * 10}% (${formatBytes(done)} of ${formatBytes(total)})${file !== undefined && tenth < 10 ? ` ${file}` : ''}\n`);
    },
    stop() {
      lastTenth = -1;
    },
  };
}
