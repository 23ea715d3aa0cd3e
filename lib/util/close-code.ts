// How a WebSocket close code and reason read in a check: shared by the wscat layer, the matcher's
// labels and the close and connect steps, so it lives below all of them.

/** "1008 Too many connections", "1006 (no close frame)": a close as people read it. */
export function describeCloseCode(code: number | undefined, reason: string | undefined): string {
  if (code === undefined) return 'no close code seen';
  const r = reason
    ? ` ${JSON.stringify(reason)}`
    : code === 1006
      ? ' (no close frame: the connection just ended)'
      : ' (no reason given)';
  return `${code}${r}`;
}
