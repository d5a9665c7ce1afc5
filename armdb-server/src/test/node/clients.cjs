// Drives a node with node-redis and ioredis at their default settings: node-redis opens with HELLO 3 (RESP3).
// Usage: node clients.cjs PORT   (modules found through NODE_PATH). Exits non-zero on the first mismatch.
'use strict';
const assert = require('node:assert/strict');
const port = Number(process.argv[2]);
const V = 'value-of-16-byte';
const key = (i) => 'k' + String(i).padStart(7, '0');

async function nodeRedis() {
  const { createClient } = require('redis');
  const c = createClient({ socket: { host: '127.0.0.1', port } });
  const other = createClient({ socket: { host: '127.0.0.1', port } });
  c.on('error', (e) => console.error('node-redis:', e.message));
  other.on('error', (e) => console.error('node-redis:', e.message));
  await c.connect();
  await other.connect();
  assert.equal(await c.ping(), 'PONG');
  assert.equal(await c.set(key(1), V), 'OK');
  assert.equal(await c.get(key(1)), V);
  assert.equal(await c.get(key(2)), null);
  assert.equal(await c.type(key(1)), 'string');
  assert.equal(await c.ttl(key(1)), -1);
  assert.match(await c.clientInfo().then((i) => JSON.stringify(i)), /"resp":3|resp=3/);
  const sets = [];
  for (let i = 10; i < 110; i++) sets.push(c.set(key(i), V));
  assert.deepEqual(await Promise.all(sets), Array(100).fill('OK'));
  assert.deepEqual(await c.multi().set(key(200), V).get(key(200)).exec(), ['OK', V]);
  await c.watch(key(200));
  await other.set(key(200), 'changed-by-other');
  await assert.rejects(c.multi().set(key(200), V).exec(), /watch|WATCH|aborted|null/i);
  assert.equal(await c.get(key(200)), 'changed-by-other');
  const seen = new Set();
  let scans = 0;
  for await (const keys of c.scanIterator({ COUNT: 7 })) {
    for (const k of [].concat(keys)) seen.add(k);
    assert.ok(++scans < 100000);
  }
  assert.equal(seen.size, await c.dbSize());
  await c.quit();
  await other.quit();
  console.log('node-redis ' + require('redis/package.json').version + ': ok');
}

async function ioredis() {
  const Redis = require('ioredis');
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  const other = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await c.connect();
  await other.connect();
  assert.equal(await c.set(key(300), V), 'OK');
  assert.equal(await c.get(key(300)), V);
  assert.equal(await c.exists(key(300), key(301)), 1);
  const p = c.pipeline();
  for (let i = 400; i < 500; i++) p.set(key(i), V);
  const res = await p.exec();
  assert.ok(res.every(([err, r]) => err === null && r === 'OK'));
  assert.deepEqual(await c.multi().set(key(301), V).get(key(301)).exec(), [[null, 'OK'], [null, V]]);
  await c.watch(key(301));
  await other.del(key(301));
  assert.equal(await c.multi().set(key(301), V).exec(), null);
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const s = c.scanStream({ count: 9 });
    s.on('data', (keys) => keys.forEach((k) => seen.add(k)));
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.size, await c.dbsize());
  c.disconnect();
  other.disconnect();
  console.log('ioredis ' + require('ioredis/package.json').version + ': ok');
}

(async () => {
  await nodeRedis();
  await ioredis();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
