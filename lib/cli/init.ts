// `wsgate init [DIR]`: a starter gates.yaml that loads, validates against the shipped schema and
// explains itself, with the editor modeline pointing at this installation's gates.schema.json.
import { existsSync, statSync } from 'node:fs';
import { outputFileSync } from 'fs-extra/esm';
import path from 'node:path';
import { EXIT } from '../errors.ts';
import { packageFileRef, SHIPPED_GATES_SCHEMA } from '../package-root.ts';
import { DEFAULT_PROTOCOL_FILE } from '../protocol/index.ts';
import { defineCommand } from './command.ts';
import { HELP, on } from './flags.ts';
import { nextCommand } from './gates-file.ts';

export const SHIPPED_PROTOCOL = DEFAULT_PROTOCOL_FILE;
// Named here too: init writes them into the starter file, and its tests read them from here.
export { packageFileRef, SHIPPED_GATES_SCHEMA };

export function starterGates(dir: string): string {
  return `# yaml-language-server: $schema=${packageFileRef(dir, SHIPPED_GATES_SCHEMA)}
# The line above lets editors with the YAML language server check this file and complete its keys.
#
# A wsgate gates file. Run it from this folder with:   npx wsgate run [ws://host:port/path] [PROJECT_FOLDER]
# (a gates.yaml or wsgate.yaml of the current folder is found; elsewhere add --gates FILE). With no URL,
# wsgate starts its embedded reference server. The exit code is the verdict (0: all passed).
version: 1

# Optional: check every frame, both ways, against a protocol description (AsyncAPI 3) and report how
# much of it the run exercised. The agent-backend protocol ships with wsgate; copy it to describe yours.
# (wsgate:NAME is a protocol shipped with wsgate; a path, relative to this file, names your own.)
# protocol: wsgate:agent-backend

defaults:
  timeout: 5s          # how long each wait may take, unless a step says \`within:\`
  typeField: type      # the field that names a message's kind

# Values usable as \${NAME} in any step (like \${URL}, \${PROJECT}, \${RUN_ID}, and --var NAME=VALUE).
vars:
  GREETING: hello

gates:
  # A gate is a named list of steps, run in order. A failed check fails the gate; the steps after it
  # still run when they have what they need (a skipped step says which variable or connection it lacked).
  - id: session
    title: "A session starts and the server answers ping"
    steps:
      # Open a WebSocket named "main" to \${URL}; the step passes once the socket is open.
      - connect: main

      # Send one JSON message, then wait for the expected answer. \`match:\` checks fields of the
      # message that arrived, \`capture:\` keeps a field as a variable for the next steps, and
      # \`forbid:\` fails the step at once if an error message comes first.
      - send: {type: init_session, projectPath: "\${PROJECT}"}
        expect:
          - type: session_initialized
            match:
              sessionId: {format: uuid}
            capture: {sessionId: sessionId}
        forbid: [error]

      # A quick liveness check with its own deadline.
      - send: {type: ping}
        expect:
          - type: pong
        within: 2s
`;
}

export type InitResult = { ok: true; file: string } | { ok: false; reason: string };

/** Writes DIR/gates.yaml; refuses to replace an existing one unless `force`. */
export function initGates(dir: string, opts: { force?: boolean } = {}): InitResult {
  const target = path.resolve(dir);
  if (existsSync(target) && !statSync(target).isDirectory())
    return { ok: false, reason: `${dir} is a file, not a folder` };
  const file = path.join(target, 'gates.yaml');
  if (existsSync(file) && !opts.force)
    return { ok: false, reason: `${file} already exists; pass --force to overwrite it` };
  try {
    // The folder is made if missing; 'wx' also refuses a gates.yaml that appeared since the check above.
    outputFileSync(file, starterGates(target), { flag: opts.force ? 'w' : 'wx' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      reason:
        err.code === 'EEXIST'
          ? `${file} already exists; pass --force to overwrite it`
          : `cannot write ${file} (${err.code ?? err.message})`,
    };
  }
  return { ok: true, file };
}

export const INIT = defineCommand({
  name: 'init',
  summary: 'Writes a starter gates.yaml that explains itself, then prints the command that runs it.',
  positionals: {
    usage: '[DIR]',
    help: [['DIR', 'the folder to write gates.yaml in (default: the current folder; created if\nmissing)']],
    max: 1,
  },
  flags: {
    force: on('force', 'replace an existing gates.yaml'),
    help: HELP,
  },
  epilogue: 'exit codes: 0 written · 2 usage error, or gates.yaml exists (without --force) or cannot be written',
  /** Writes the starter file and prints the command that runs it. */
  run({ flags, positionals }) {
    const r = initGates(positionals[0] ?? process.cwd(), { force: flags.force });
    if (!r.ok) {
      process.stderr.write(`wsgate: ${r.reason}\n`);
      return EXIT.usage;
    }
    process.stdout.write(`wrote ${r.file}\nnext: ${nextCommand(r.file)}\n`);
    return EXIT.passed;
  },
});

export const INIT_FLAGS = INIT.flags;
export const INIT_USAGE = INIT.usage;
export const INIT_HELP = INIT.help;
