import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { BufferPool } from './buffer-pool.js';

t.test('a buffer given back is lent again; one still lent is not', async (t) => {
  const pool = new BufferPool({ slabBytes: 1024, maxFree: 4, idleMs: 60_000 });
  const a = pool.lease(100);
  t.equal(a.bytes.length, 100, 'exactly the length asked');
  const b = pool.lease(1024);
  t.not(b.bytes.buffer, a.bytes.buffer, 'two leases, two buffers');
  a.release();
  t.equal(pool.free, 1);
  const c = pool.lease(500);
  t.equal(c.bytes.buffer, a.bytes.buffer, 'the buffer given back');
  t.equal(pool.free, 0);
  b.release();
  c.release();
  t.equal(pool.free, 2);
});

t.test('releasing twice gives the buffer back once', async (t) => {
  const pool = new BufferPool({ slabBytes: 64, maxFree: 4, idleMs: 60_000 });
  const a = pool.lease(10);
  a.release();
  a.release();
  t.equal(pool.free, 1, 'not twice: two later leases would share it');
  t.not(pool.lease(10).bytes.buffer, pool.lease(10).bytes.buffer);
});

t.test('a lease larger than a slab gets a buffer of its own, never pooled', async (t) => {
  const pool = new BufferPool({ slabBytes: 64, maxFree: 4, idleMs: 60_000 });
  const big = pool.lease(65);
  t.equal(big.bytes.length, 65);
  big.release();
  t.equal(pool.free, 0);
});

t.test('at most maxFree buffers are kept', async (t) => {
  const pool = new BufferPool({ slabBytes: 64, maxFree: 2, idleMs: 60_000 });
  const leases = [pool.lease(1), pool.lease(1), pool.lease(1)];
  for (const lease of leases) lease.release();
  t.equal(pool.free, 2);
});

t.test('an idle pool drops its free buffers; one in use keeps them', async (t) => {
  const pool = new BufferPool({ slabBytes: 64, maxFree: 4, idleMs: 150 });
  pool.lease(1).release();
  t.equal(pool.free, 1);
  // Leases keep coming: the timer that fires finds the pool in use and waits again.
  for (let i = 0; i < 4; i++) {
    await sleep(60);
    pool.lease(1).release();
  }
  t.equal(pool.free, 1, 'kept while leases come');
  await sleep(400);
  t.equal(pool.free, 0, 'dropped once idle');
});
