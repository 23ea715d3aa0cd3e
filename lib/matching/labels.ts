// How expectations, selectors and closes read in check names and messages.
import type {
  CollectExpectation,
  Expectation,
  NoneExpectation,
  Selector,
  SelectorObject,
} from '../gates/common-schema.ts';
import { describe } from './match.ts';
import { describeCloseCode } from '../util/close-code.ts';

export const isCollect = (e: Expectation): e is CollectExpectation => 'collect' in e;
export const isNone = (e: Expectation): e is NoneExpectation => 'none' in e;

export function selectorObject(s: Selector): SelectorObject {
  return typeof s === 'string' ? { type: s } : s;
}

export function selectorLabel(s: Selector): string {
  const o = selectorObject(s);
  const where = o.where
    ? ` where ${Object.entries(o.where)
        .map(([k, v]) => `${k}=${describe(v)}`)
        .join(', ')}`
    : '';
  return `${o.type ?? 'message'}${where}`;
}

export function expectationLabel(exp: Expectation): string {
  if (isCollect(exp)) return `${exp.collect} pieces`;
  if (isNone(exp)) return `no ${selectorLabel(exp.none)}`;
  if ('raw' in exp) return `non-JSON frame ${describe(exp.raw)}`;
  return selectorLabel(exp);
}

export function oneLine(text: string, max = 300): string {
  const t = text.replace(/\s*\n\s*/g, ' ');
  return t.length > max ? t.slice(0, max) + '…' : t;
}

/** What closeWords reads of a connection's close (lib/wscat's CloseInfo): named by shape, so labels load no wscat. */
export interface CloseFacts {
  byClient: boolean;
  error?: { message: string };
  code?: number;
  reason?: string;
}

/** How a close reads in a check: "the server closed the connection (1008 "Too many connections")". */
export function closeWords(info: CloseFacts): string {
  if (info.byClient) return 'closed by the harness';
  if (info.error) return `connection lost: ${info.error.message}`;
  return `the server closed the connection (${describeCloseCode(info.code, info.reason)})`;
}
