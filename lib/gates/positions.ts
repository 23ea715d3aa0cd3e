// Where things are in a gates file: the YAML document keeps every node's offset, and a LineCounter
// turns offsets into FILE:LINE:COL, so each problem points at the key or value the author must fix.
import { isMap, isPair, isScalar, type Document, type LineCounter, type Node } from 'yaml';
import type { Loc } from '../loc.ts';

export type PathSeg = string | number;

export class Positions {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  at(offset: number): Loc {
    const p = this.lc.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  /** The node at a path, or its nearest existing ancestor. */
  nodeLoc(p: PathSeg[]): Loc {
    for (let n = p.length; n >= 0; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as Node | undefined;
      if (node && (node as { range?: [number, number, number] }).range) return this.at(node.range![0]);
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** The key of `key` inside the map at `p`. */
  keyLoc(p: PathSeg[], key: string): Loc {
    const map = this.doc.getIn(p, true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range)
          return this.at(pair.key.range[0]);
      }
    }
    return this.nodeLoc(p);
  }
}

/** "a map", "a list", "string \"x\"": what a value is, for "expected ..., got ..." messages. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}
