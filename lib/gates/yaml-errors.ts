// YAML syntax errors, each moved to where the author has to look (an unclosed quote or bracket, a
// tab, a duplicate key, a second document), with the parser's cascades dropped.
import { CST, Parser, visit, isScalar, type Document, type LineCounter, type Scalar } from 'yaml';
import type { HarnessError } from '../errors.ts';
import type { Positions } from './positions.ts';

export const MAX_YAML_ERRORS = 10;

/**
 * YAML syntax errors, each moved to where the author has to look. Cascades are dropped: the misread
 * lines around a tab, and the "Unexpected ... token in YAML stream" for every token after the point
 * where the parser lost the document (one stray `{` can make thousands). At most MAX_YAML_ERRORS.
 */
export function yamlErrors(doc: Document, text: string, lc: LineCounter, pos: Positions): HarnessError[] {
  const out = yamlErrorList(doc, text, lc, pos);
  if (out.length <= MAX_YAML_ERRORS) return out;
  const rest = out.length - MAX_YAML_ERRORS;
  return [
    ...out.slice(0, MAX_YAML_ERRORS),
    {
      code: 'YAML_SYNTAX',
      title: `and ${rest} more YAML syntax error${rest === 1 ? '' : 's'} from here on`,
      loc: out[MAX_YAML_ERRORS]!.loc!,
      hint: 'fix the first ones: the later ones often follow from them',
    },
  ];
}

function yamlErrorList(doc: Document, text: string, lc: LineCounter, pos: Positions): HarnessError[] {
  const out: HarnessError[] = [];
  let lost: HarnessError | undefined;
  let lostMore = 0;
  const tabLines = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT').map((e) => lc.linePos(e.pos[0]).line);
  let cst: CST.Token[] | undefined;
  const tokens = () => (cst ??= [...new Parser().parse(text)]);
  const bracketReported = new Set<number>();
  for (const e of doc.errors) {
    const line = lc.linePos(e.pos[0]).line;
    // A tab in the indentation makes the parser misread that line and the key above it: one error is enough.
    if (e.code !== 'TAB_AS_INDENT' && tabLines.some((t) => line === t || line === t - 1)) continue;
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const found = pos.at(e.pos[0]);
    if (/ in YAML stream/.test(msg)) {
      if (lost) {
        lostMore++;
        continue;
      }
      lost = {
        code: 'YAML_SYNTAX',
        title: `the YAML parser lost track of the document here (${msg})`,
        loc: found,
        hint: 'look at this line and the ones just above it: an unclosed bracket or quote, or a line indented differently',
      };
      out.push(lost);
      continue;
    }
    if (e.code === 'TAB_AS_INDENT') {
      out.push({
        code: 'YAML_SYNTAX',
        title: 'a tab is used for indentation',
        loc: found,
        hint: 'YAML indents with spaces only: replace the tab with spaces',
      });
      continue;
    }
    if (e.code === 'MISSING_CHAR' && /closing .*quote/i.test(msg)) {
      const open = unclosed(
        tokens(),
        e.pos[0],
        (t) => (t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && !closedQuote(t.source),
      );
      if (open) {
        const q = open.type === 'double-quoted-scalar' ? '"' : "'";
        out.push({
          code: 'YAML_SYNTAX',
          title: `unclosed quote: the string that starts here has no closing ${q}`,
          loc: pos.at(open.offset),
          hint: `the YAML parser read to line ${found.line} looking for it; add the closing ${q}`,
        });
        continue;
      }
    }
    if (/^Flow (map|sequence)/.test(msg)) {
      const open = unclosed(
        tokens(),
        e.pos[0],
        (t) =>
          t.type === 'flow-collection' && !t.end.some((x) => x.type === 'flow-map-end' || x.type === 'flow-seq-end'),
      );
      if (open && open.type === 'flow-collection') {
        const [o, c] = open.start.source === '{' ? ['{', '}'] : ['[', ']'];
        out.push({
          code: 'YAML_SYNTAX',
          title: `unclosed ${o === '{' ? 'flow map' : 'flow list'}: this ${o} has no matching ${c}`,
          loc: pos.at(open.offset),
          hint: `add the ${c} (the YAML parser gave up at line ${found.line}, col ${found.col})`,
        });
        continue;
      }
    }
    // `{payload[0].message: x}`: inside a flow map the [ opens a list, and the parser loses the key.
    const lineText = text.slice(
      lc.lineStarts[found.line - 1] ?? 0,
      text.indexOf('\n', lc.lineStarts[found.line - 1] ?? 0) >>> 0,
    );
    const bracketKey = /\{[^}]*?([A-Za-z_][\w.]*\[\d+\][\w.[\]]*)\s*:/.exec(lineText)?.[1];
    if (bracketKey && !lineText.includes(`"${bracketKey}"`) && !bracketReported.has(found.line)) {
      bracketReported.add(found.line);
      out.push({
        code: 'YAML_SYNTAX',
        title: `the key ${bracketKey} needs quotes inside a flow map {…} (${msg})`,
        loc: found,
        hint: `write "${bracketKey}": … (a [ inside { } starts a list in YAML), or write the map in block style on its own lines`,
      });
      continue;
    }
    if (bracketReported.has(found.line)) continue;
    if (e.code === 'MULTIPLE_DOCS') {
      out.push({
        code: 'YAML_SYNTAX',
        title: 'a second YAML document starts here; a gates file is one document',
        loc: found,
        hint: 'remove the `---` line (or the `...` line before it) so everything is in one document',
      });
      continue;
    }
    if (e.code === 'DUPLICATE_KEY') {
      const dup = duplicateKey(doc, e.pos[0]);
      if (dup) {
        out.push({
          code: 'YAML_SYNTAX',
          title: `duplicate key "${dup.key}"`,
          loc: found,
          hint: `"${dup.key}" is already set at line ${lc.linePos(dup.first).line}; a map has each key once`,
        });
        continue;
      }
    }
    const lineStart = lc.lineStarts[found.line - 1] ?? 0;
    if (e.pos[0] === lineStart && /^\s+\S/.test(text.slice(lineStart, text.indexOf('\n', lineStart) >>> 0))) {
      // The parser points at the start of a wrongly indented line: point at its first character.
      const indent = /^[ ]*/.exec(text.slice(lineStart))![0].length;
      out.push({
        code: 'YAML_SYNTAX',
        title: `bad indentation (${msg})`,
        loc: { ...found, col: indent + 1 },
        hint: 'this line does not line up with the lines above it: check its indentation',
      });
      continue;
    }
    out.push({
      code: 'YAML_SYNTAX',
      title: msg,
      loc: found,
      ...(e.code === 'BAD_INDENT' ? { hint: 'check the indentation of this line against the lines above it' } : {}),
    });
  }
  if (lost && lostMore)
    lost.hint += `; the ${lostMore} unreadable token${lostMore === 1 ? '' : 's'} after it ${lostMore === 1 ? 'is' : 'are'} not listed`;
  return out;
}

/** The last CST token before `offset` that `pred` picks (an opening quote or bracket that never closed). */
function unclosed(tokens: CST.Token[], offset: number, pred: (t: CST.Token) => boolean): CST.Token | undefined {
  let best: CST.Token | undefined;
  const consider = (t: CST.Token | undefined) => {
    if (t && t.offset <= offset && pred(t) && (!best || t.offset > best.offset)) best = t;
  };
  for (const doc of tokens) {
    consider(doc);
    if (doc.type !== 'document') continue;
    CST.visit(doc, (item) => {
      consider(item.key ?? undefined);
      consider(item.value);
    });
  }
  return best;
}

function closedQuote(source: string): boolean {
  const q = source[0]!;
  const body = source.trimEnd();
  if (body.length < 2 || !body.endsWith(q)) return false;
  if (q === "'") return true;
  let bs = 0;
  for (let i = body.length - 2; i > 0 && body[i] === '\\'; i--) bs++;
  return bs % 2 === 0;
}

function duplicateKey(doc: Document, offset: number): { key: string; first: number } | undefined {
  let hit: { key: string; first: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const at = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (!at) return undefined;
      const key = String((at.key as Scalar).value);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      hit = { key, first: (first!.key as Scalar).range![0] };
      return visit.BREAK;
    },
  });
  return hit;
}

/** Problems in file order (stable: problems at one place keep the order they were found in). */
