// `wsgate model`: the model API stand-in as a command. Its first stdout line is
// `listening http://HOST:PORT` (scripts wait for it); it serves until SIGTERM or SIGINT.
import { HarnessFailure, EXIT } from '../errors.ts';
import { defineCommand, type CommandInput } from '../cli/command.ts';
import { HELP, on, parsed, text, type Parse } from '../cli/flags.ts';
import { loadGatesFile } from '../gates/load.ts';
import { parseDuration } from '../gates/duration.ts';
import { DEFAULT_MODEL_SECTION } from './default-rules.ts';
import { scriptOf } from './rules.ts';
import { startModelServer } from './server.ts';

const port: Parse<number | undefined> = (raw, refuse, flag) => {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw refuse(`${flag} needs a port from 0 to 65535, got "${raw}"`);
  return Number(raw);
};

const ms: Parse<number | undefined> = (raw, refuse, flag) => {
  try {
    return parseDuration(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw);
  } catch {
    throw refuse(`${flag} expects milliseconds (or a duration such as 900ms, 2s), got "${raw}"`);
  }
};

const rate: Parse<number | undefined> = (raw, refuse, flag) => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
    throw refuse(`${flag} expects a number >= 0 (0: no pause), got "${raw}"`);
  return n;
};

export const MODEL_FLAGS = {
  port: parsed('port', 'P', 'port, 0 for a free one (default 0)', undefined, port),
  host: text('host', 'HOST', 'address to listen on (default 127.0.0.1); any other than loopback needs\n--allow-remote'),
  gates: text(
    'gates',
    'FILE',
    "serve the rules of this gates file's model: section (default: the rules of\nwsgate's own default gates)",
  ),
  ttft: parsed('ttft', 'MS', "time to the first token of every reply (over the file's model.ttft)", undefined, ms),
  tokensPerSecond: parsed(
    'tokens-per-second',
    'N',
    'pace of the tokens after the first (0: no pause)',
    undefined,
    rate,
  ),
  log: text('log', 'FILE', 'append one JSON line per request here (model.jsonl)'),
  allowRemote: on('allow-remote', 'allow a non-loopback --host; anyone who reaches the port then drives it'),
  help: HELP,
};

/** Serves the stand-in until SIGINT or SIGTERM. */
async function serveModel({ flags: v, refuse }: CommandInput<typeof MODEL_FLAGS>): Promise<number> {
  let section = DEFAULT_MODEL_SECTION;
  if (v.gates !== undefined) {
    const loaded = loadGatesFile(v.gates);
    if (!loaded.ok) throw new HarnessFailure(loaded.errors, EXIT.usage);
    if (!loaded.gates.model)
      process.stderr.write(`model: ${v.gates} has no model: section; serving the rules of wsgate's default gates\n`);
    else section = loaded.gates.model;
  }
  const script = scriptOf(section, {
    ...(v.ttft !== undefined ? { ttftMs: v.ttft } : {}),
    ...(v.tokensPerSecond !== undefined ? { tokensPerSecond: v.tokensPerSecond } : {}),
  });
  let server: Awaited<ReturnType<typeof startModelServer>>;
  try {
    server = await startModelServer({
      script,
      ...(v.host !== undefined ? { host: v.host } : {}),
      port: v.port ?? 0,
      ...(v.log !== undefined ? { logFile: v.log } : {}),
      allowRemote: v.allowRemote,
    });
  } catch (e) {
    if (/not a loopback address/.test((e as Error).message)) throw refuse((e as Error).message);
    process.stderr.write(`model: could not start: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`listening ${server.url}\n`);
  process.stderr.write(
    `model: ANTHROPIC_BASE_URL=${server.url} OPENAI_BASE_URL=${server.url}/v1 (any API key is accepted)\n`,
  );
  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`model: ${signal}, closing after ${running.log.records.length} requests\n`);
      running.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const MODEL = defineCommand({
  name: 'model',
  summary:
    'Serves a stand-in for a model API: POST /v1/messages (Anthropic Messages) and\nPOST /v1/chat/completions (OpenAI Chat Completions), streaming and not, answering\nfrom rules. Any API key is accepted. Point a backend at it with\nANTHROPIC_BASE_URL=http://HOST:PORT or OPENAI_BASE_URL=http://HOST:PORT/v1.',
  flags: MODEL_FLAGS,
  epilogue:
    'The first line printed is "listening http://HOST:PORT" once it accepts requests.\nexit codes: 0 stopped by SIGINT/SIGTERM · 1 could not start · 2 usage or gates file error',
  run: serveModel,
});
