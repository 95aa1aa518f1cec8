import t from 'tap';
import { Slots } from './slots.js';

t.test('at most `limit` tasks run at once, the others in order, failures free their slot', async (t) => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const gates = Array.from({ length: 5 }, () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  const tasks = gates.map((gate, i) =>
    slots.run(async () => {
      running++;
      most = Math.max(most, running);
      order.push(i);
      await gate.promise;
      running--;
      if (i === 1) throw new Error('task 1 fails');
      return i;
    }),
  );
  await new Promise((r) => setImmediate(r));
  t.same(order, [0, 1], 'two started, three wait');
  gates[1]!.resolve();
  await t.rejects(tasks[1]!, /task 1 fails/);
  await new Promise((r) => setImmediate(r));
  t.same(order, [0, 1, 2], 'the failed task freed its slot for the first waiter');
  for (const gate of gates) gate.resolve();
  t.same(await Promise.all([tasks[0], tasks[2], tasks[3], tasks[4]]), [0, 2, 3, 4]);
  t.same(order, [0, 1, 2, 3, 4], 'first come, first served');
  t.equal(most, 2, 'never more than two at once');
});
