// The wscat stdout parser alone, fed 64 KB chunks as a child's stdout 'data' events would deliver them.
//   node --import tsx bench/parser.ts recorded [MESSAGES]   a recorded-style agent session (default 200000)
//   node --import tsx bench/parser.ts deltas [COUNT]        {"type":"content_delta","delta":"x"} lines (default 1000000)
// Prints one JSON line: messages, bytes, ms (best and median of the timed passes), msg/s, peak RSS.
import { WscatStreamParser, type StreamItem } from '../lib/wscat/stream.ts';

const CHUNK = 64 * 1024;

/** A deterministic pseudo-random sequence, so every run parses the same stream. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS =
  'the file was written and the tool returned its result so the session goes on with the next step of the plan'.split(
    ' ',
  );

/**
 * What wscat prints for an agent session: after every line the driver writes, a `> ` prompt glued in
 * front of the next output (sometimes two piled up), probe pongs, server pings, ~10 % of frames
 * pretty-printed over several lines, tool results with escaped newlines and quotes.
 */
function recordedStream(messages: number): { text: string; prompts: number; frames: number; controls: number } {
  const r = rng(42);
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  const parts: string[] = [];
  let prompts = 0;
  let frames = 0;
  let controls = 0;
  let glue = '';
  const out = (line: string) => {
    parts.push(glue + line + '\n');
    glue = '';
  };
  const frame = (msg: unknown) => {
    frames++;
    out(r() < 0.1 ? JSON.stringify(msg, null, 2) : JSON.stringify(msg));
  };
  const sent = (n = 1) => {
    prompts += n;
    glue += '> '.repeat(n);
  };
  const ts = () => new Date(1_700_000_000_000 + Math.floor(r() * 1e9)).toISOString();
  sent();
  out(`Received pong (data: "wsgate-probe-0")`);
  controls++;
  frame({ type: 'connected', connectionId: 'c-1', server: 'wsgate-reference', version: '1.0.0', timestamp: ts() });
  let m = 1;
  while (m < messages) {
    sent(r() < 0.05 ? 2 : 1); // the message the driver wrote (sometimes a probe right before it)
    const tools = ['write_file', 'read_file', 'list_files', 'execute_command', 'git_status'];
    const toolName = tools[Math.floor(r() * tools.length)]!;
    const turn: unknown[] = [];
    for (let i = 0, n = 2 + Math.floor(r() * 6); i < n; i++)
      turn.push({ type: 'content_delta', delta: words(1 + Math.floor(r() * 8)) + ' ', timestamp: ts() });
    turn.push({
      type: 'tool_execution',
      tool: toolName,
      input: { path: `src/dir-${m % 17}/file-${m}.ts`, content: `export const x${m} = "${words(6)}";\n` },
      timestamp: ts(),
    });
    turn.push({
      type: 'tool_result',
      tool: toolName,
      result: Array.from({ length: 1 + Math.floor(r() * 12) }, (_, k) => `line ${k}: "${words(5)}"\t{${k}}`).join('\n'),
      timestamp: ts(),
    });
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++)
      turn.push({ type: 'content_delta', delta: words(1 + Math.floor(r() * 8)) + ' ', timestamp: ts() });
    turn.push({ type: 'message_complete', messageId: `m-${m}`, tokensUsed: Math.floor(r() * 500), timestamp: ts() });
    for (const msg of turn) {
      if (m >= messages) break;
      frame(msg);
      m++;
      if (r() < 0.01) {
        out(`Received ping (data: "")`);
        controls++;
      }
    }
  }
  return { text: parts.join(''), prompts, frames, controls };
}

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) out.push(text.slice(i, i + CHUNK));
  return out;
}

function recorded(messages: number) {
  const stream = recordedStream(messages);
  const parts = chunks(stream.text);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let counted = 0;
  for (let pass = 0; pass < 4; pass++) {
    let frames = 0;
    let json = 0;
    let controls = 0;
    const p = new WscatStreamParser((item: StreamItem) => {
      if (item.kind === 'frame') {
        frames++;
        if (item.isJson) json++;
      } else controls++;
    });
    p.addPromptCredits(stream.prompts);
    p.removePromptCredits(0); // past the first probe pong: the count is exact
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    for (const c of parts) p.push(c);
    p.end();
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    if (frames !== stream.frames || json !== stream.frames || controls !== stream.controls) {
      throw new Error(
        `parser mis-split the stream: ${frames} frames (${json} JSON), ${controls} control lines; expected ${stream.frames} and ${stream.controls}`,
      );
    }
    counted = frames + controls;
    if (pass > 0) {
      // pass 0 warms the JIT up
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  return report('recorded', counted, stream.text.length, times, cpuTimes, {
    frames: stream.frames,
    prompts: stream.prompts,
    controlLines: stream.controls,
    prettyPrinted: '~10%',
  });
}

function deltas(count: number) {
  const line = '{"type":"content_delta","delta":"x"}\n';
  const perChunk = Math.floor(CHUNK / line.length);
  const full = line.repeat(perChunk);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    let frames = 0;
    const p = new WscatStreamParser((item) => {
      if (item.kind === 'frame' && item.isJson) frames++;
    });
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    for (let left = count; left > 0; left -= perChunk) p.push(left >= perChunk ? full : line.repeat(left));
    p.end();
    times.push(performance.now() - t);
    const cpu = process.cpuUsage(cpu0);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    if (frames !== count) throw new Error(`expected ${count} frames, parsed ${frames}`);
  }
  return report('deltas', count, count * line.length, times, cpuTimes, {});
}

function report(
  mode: string,
  messages: number,
  chars: number,
  times: number[],
  cpuTimes: number[],
  extra: Record<string, unknown>,
) {
  const sorted = [...times].sort((a, b) => a - b);
  const best = sorted[0]!;
  const median = sorted[sorted.length >> 1]!;
  const cpuBest = Math.min(...cpuTimes);
  return {
    mode,
    messages,
    mb: Math.round((chars / 1024 / 1024) * 10) / 10,
    passes: times.length,
    bestMs: Math.round(best),
    medianMs: Math.round(median),
    msgPerSec: Math.round(messages / (median / 1000)),
    bestMsgPerSec: Math.round(messages / (best / 1000)),
    cpuBestMs: Math.round(cpuBest),
    // Messages per second of CPU: what the parser costs, whatever else loads the machine.
    cpuMsgPerSec: Math.round(messages / (cpuBest / 1000)),
    mbPerSec: Math.round((chars / 1024 / 1024 / (median / 1000)) * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...extra,
  };
}

const [mode = 'recorded', n] = process.argv.slice(2);
const result = mode === 'deltas' ? deltas(Number(n ?? 1_000_000)) : recorded(Number(n ?? 200_000));
process.stdout.write(JSON.stringify(result) + '\n');
