// lib/record/url.ts, pure: the session URL's query goes into the connect step after ${URL}, a
// secret-looking parameter as ${env.NAME}; a URL without a query needs nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectHeaders, connectUrl } from '../../lib/record/url.ts';

test('a query is kept after ${URL}, secrets become environment variables, and the replay URL is the base', () => {
  assert.deepEqual(connectUrl('ws://127.0.0.1:2022/trpc'), { base: 'ws://127.0.0.1:2022/trpc', notes: [] });
  const plain = connectUrl('ws://h/trpc?connectionParams=1');
  assert.equal(plain.url, '${URL}?connectionParams=1');
  assert.equal(plain.base, 'ws://h/trpc');
  const secret = connectUrl('ws://h/ws?tenant=acme&api_key=s3cr3t&flag');
  assert.equal(secret.url, '${URL}?tenant=acme&api_key=${env.API_KEY}&flag');
  assert.doesNotMatch(JSON.stringify(secret), /s3cr3t/);
  assert.match(secret.notes.join('\n'), /set API_KEY/);
});

test('headers are kept; secret-looking ones become environment variables, and a ${ in a value is escaped', () => {
  const r = connectHeaders({ Authorization: 'Bearer abc', 'X-Tenant': 'acme ${x}', 'X-Api-Key': 'k' });
  assert.deepEqual(r.headers, {
    Authorization: '${env.AUTHORIZATION}',
    'X-Tenant': 'acme \\${x}',
    'X-Api-Key': '${env.X_API_KEY}',
  });
  assert.match(r.notes[0]!, /set AUTHORIZATION, X_API_KEY/);
});
