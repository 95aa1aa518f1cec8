import t from 'tap';
import { type ReadAheadItem, readAhead } from './read-ahead.js';

/** Items that record when they are opened and closed; `gate(i)` holds item i's opening until released. */
function fixture(options: { held?: number; fail?: number } = {}) {
  const opened: number[] = [];
  const closed: number[] = [];
  const gates = new Map<number, () => void>();
  const item = (i: number): ReadAheadItem & { i: number } => ({
    i,
    held: options.held ?? 100,
    close: async () => {
      closed.push(i);
    },
  });
  const open = async (i: number) => {
    opened.push(i);
    await new Promise<void>((resolve) => (gates.has(i) ? gates.set(i, resolve) : resolve()));
    if (i === options.fail) throw new Error(`item ${i} cannot be read`);
    return item(i);
  };
  return {
    opened,
    closed,
    first: item(0),
    open,
    /** Item i's opening waits until `release(i)`. */
    gate: (i: number) => gates.set(i, () => {}),
    release: (i: number) => gates.get(i)?.(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('delivers every item in order, opening the next ones as soon as one is taken', async (t) => {
  const f = fixture();
  const items = readAhead({ first: f.first, count: 10, open: f.open, limits: { items: 3, bytes: 1 << 20 } });
  t.same(f.opened, [], 'nothing opened before the first is taken');
  const first = await items.next();
  t.equal(first.done ? undefined : first.value.i, 0);
  await settle();
  t.same(f.opened, [1, 2, 3], 'three opened ahead while item 0 is sent');
  const seen = [0];
  for await (const item of items) {
    seen.push(item.i);
    await settle();
    t.ok(f.opened.length - seen.length <= 3, `at most 3 ahead of item ${item.i}`);
  }
  t.same(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.same(f.closed, [], 'the consumer owns what it took');
});

t.test('stops opening while the items waiting or opening ahead hold the byte budget', async (t) => {
  const f = fixture({ held: 400 });
  const items = readAhead({ first: f.first, count: 10, open: f.open, limits: { items: 4, bytes: 1000 } });
  await items.next();
  await settle();
  t.same(f.opened, [1, 2, 3], 'three of 400 bytes open at once, not the fourth the item limit allows');
  await items.next(); // takes 1: 2 and 3 wait with 800 bytes
  await settle();
  t.same(f.opened, [1, 2, 3, 4], 'one more while under the budget');
  await items.next(); // takes 2: 3 and 4 wait with 800 bytes
  await settle();
  t.same(f.opened, [1, 2, 3, 4, 5]);
  await items.return!();
  t.same(f.closed.sort(), [3, 4, 5], 'the items waiting are closed by return()');
});

t.test('an item that fails is reported at its turn, after every item before it; nothing after it is opened', async (t) => {
  const f = fixture({ fail: 2 });
  const items = readAhead({ first: f.first, count: 10, open: f.open, limits: { items: 4, bytes: 1 << 20 } });
  const taken: number[] = [];
  await t.rejects(
    (async () => {
      for (;;) {
        const next = await items.next();
        if (next.done) break;
        taken.push(next.value.i);
        await settle();
      }
    })(),
    /item 2 cannot be read/,
  );
  t.same(taken, [0, 1], 'items 0 and 1 delivered first');
  t.ok(Math.max(...f.opened) <= 4, `nothing opened once the failure was known (opened ${f.opened.join(', ')})`);
  await items.return!();
  t.same(f.closed.sort(), f.opened.filter((i) => i > 2).sort(), 'the items opened after the failed one are closed');
});

t.test('return() closes every item opened and not taken, those still opening included, before it resolves', async (t) => {
  const f = fixture();
  const items = readAhead({ first: f.first, count: 10, open: f.open, limits: { items: 3, bytes: 1 << 20 } });
  f.gate(3);
  await items.next();
  await settle();
  t.same(f.opened, [1, 2, 3]);
  let returned = false;
  const returning = items.return!().then(() => (returned = true));
  await settle();
  t.notOk(returned, 'waits for item 3, still opening');
  f.release(3);
  await returning;
  t.same(f.closed.sort(), [1, 2, 3], 'items 1, 2 and 3 closed');
  t.same(f.opened, [1, 2, 3], 'nothing opened after return()');
  t.same(await items.next(), { done: true, value: undefined }, 'done after return()');
});

t.test('return() while next() waits for an item: that item is closed, not handed out', async (t) => {
  const f = fixture();
  const items = readAhead({ first: f.first, count: 3, open: f.open, limits: { items: 2, bytes: 1 << 20 } });
  f.gate(1);
  await items.next();
  const waiting = items.next();
  await settle();
  const returning = items.return!();
  f.release(1);
  t.same(await waiting, { done: true, value: undefined });
  await returning;
  t.same(f.closed.sort(), [1, 2]);
});

t.test('one item: nothing is opened', async (t) => {
  const f = fixture();
  const items = readAhead({ first: f.first, count: 1, open: f.open, limits: { items: 4, bytes: 1 << 20 } });
  const all = [];
  for await (const item of items) all.push(item.i);
  t.same(all, [0]);
  t.same(f.opened, []);
});

t.test('a consumer that takes the next item at once still gets every item', async (t) => {
  const f = fixture();
  const items = readAhead({ first: f.first, count: 5, open: f.open, limits: { items: 2, bytes: 1 << 20 } });
  const seen: number[] = [];
  // No pause between takes: the read-ahead of each item has not started when the next is asked.
  for (let next = await items.next(); !next.done; next = await items.next()) seen.push(next.value.i);
  t.same(seen, [0, 1, 2, 3, 4]);
});
