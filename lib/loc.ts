// A place in a file the user wrote (gates.yaml, a protocol file): where a check, a step or a harness
// error points. Its own module because errors, results, the gates loader and the protocol reader all
// name places, and none of them should have to import another to do so.

export interface Loc {
  file: string;
  line: number;
  col: number;
}

export function formatLoc(loc: Loc | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}` : '?';
}
