// What a recorded session is, whichever way it was captured (a live wscat session or the evidence
// of an earlier run): frames in arrival order per connection, and what the project folder showed
// after each exchange. Inference (infer.ts) reads only this, so both sources give the same gate.

export interface FileChange {
  /** Relative to the project folder, with `/` separators. */
  path: string;
  exists: boolean;
  /** The content of a small UTF-8 text file; otherwise `sha256` stands for it. */
  text?: string;
  sha256?: string;
  /** Created or modified during the session (false: only observed, e.g. from a run's verify step). */
  changed: boolean;
}

export interface GitChange {
  headMoved?: boolean;
  lastMessage?: string;
  /** The paths `git status` names now, when the session began with a clean tree. */
  status?: string[];
  clean?: boolean;
}

export interface ProjectChanges {
  files: FileChange[];
  git?: GitChange;
  /** A directory whose exact entries were seen (from a run's listing check). */
  listings?: { dir: string; entries: string[] }[];
}

export type RecEvent =
  | { kind: 'connect'; conn: string }
  | { kind: 'out'; conn: string; text: string; at: number }
  | { kind: 'in'; conn: string; text: string; at: number }
  | { kind: 'changes'; changes: ProjectChanges }
  | { kind: 'close'; conn: string; by: 'client' | 'server'; code?: number; reason?: string };

export interface Recording {
  /** Becomes the written gate's id (made unique in the target file). */
  id: string;
  title: string;
  /** The project folder of the session: written as ${PROJECT} wherever it appears. */
  project?: string;
  /** The same folder as the session may have spelled it (before symlinks were resolved). */
  projectAliases?: string[];
  /** The run id of a recorded run: written as ${RUN_ID} (sends and files carried it). */
  runId?: string;
  events: RecEvent[];
  /** The main connection's URL when it is not plain ${URL} (the session's URL had a query: `${URL}?connectionParams=1`). */
  connectUrl?: string;
  /** The main connection's handshake headers (`--header`), secrets as `${env.NAME}`. */
  connectHeaders?: Record<string, string>;
  /** Things the recorder could not turn into steps, for the summary. */
  notes: string[];
}

export function hasChanges(c: ProjectChanges): boolean {
  return c.files.length > 0 || c.git !== undefined || (c.listings?.length ?? 0) > 0;
}
