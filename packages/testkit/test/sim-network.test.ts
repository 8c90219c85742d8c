// Goal: SimNetwork delays, drops, duplicates and partitions messages exactly as configured,
// and the same seed gives the same deliveries. Method: send numbered messages through it and
// look at what comes out at each tick.
import { SeededRandom, term } from '@tessera/common';
import type { RaftMessage } from '@tessera/raft';
import { SimNetwork } from '@tessera/testkit';

function message(from: string, to: string, sequence: number): RaftMessage {
  return { kind: 'heartbeatResponse', from, to, term: term(1), readSequence: sequence };
}

function sequences(messages: readonly RaftMessage[]): number[] {
  return messages.map((m) => (m.kind === 'heartbeatResponse' ? m.readSequence : -1));
}

const perfect = { dropProbability: 0, duplicateProbability: 0, delayTicksMin: 0, delayTicksMax: 0 };

describe('SimNetwork', () => {
  test('a perfect network delivers everything in order at once', () => {
    const network = new SimNetwork(new SeededRandom(1), perfect);
    for (let i = 0; i < 5; i++) network.send(message('a', 'b', i), 0);
    expect(sequences(network.takeDue(0))).toEqual([0, 1, 2, 3, 4]);
  });

  test('random delays reorder messages and hold them until due', () => {
    const network = new SimNetwork(new SeededRandom(2), { ...perfect, delayTicksMin: 1, delayTicksMax: 5 });
    for (let i = 0; i < 50; i++) network.send(message('a', 'b', i), 0);
    expect(network.takeDue(0)).toEqual([]);
    const delivered: number[] = [];
    for (let tick = 1; tick <= 5; tick++) delivered.push(...sequences(network.takeDue(tick)));
    expect([...delivered].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(delivered).not.toEqual([...Array(50).keys()]);
  });

  test('drop and duplicate rates are applied', () => {
    const network = new SimNetwork(new SeededRandom(3), { ...perfect, dropProbability: 0.3, duplicateProbability: 0.2 });
    for (let i = 0; i < 2000; i++) network.send(message('a', 'b', i), 0);
    const delivered = network.takeDue(0).length;
    expect(network.stats.droppedCount).toBeGreaterThan(450);
    expect(network.stats.droppedCount).toBeLessThan(750);
    expect(network.stats.duplicatedCount).toBeGreaterThan(150);
    expect(delivered).toBe(2000 - network.stats.droppedCount + network.stats.duplicatedCount);
  });

  test('symmetric partitions, one-way cuts and heal', () => {
    const network = new SimNetwork(new SeededRandom(4), perfect);
    network.partition([['a'], ['b', 'c']]);
    network.send(message('a', 'b', 1), 0);
    network.send(message('c', 'a', 2), 0);
    network.send(message('b', 'c', 3), 0);
    expect(sequences(network.takeDue(0))).toEqual([3]);
    network.heal();
    network.cutOneWay('a', 'b');
    network.send(message('a', 'b', 4), 0);
    network.send(message('b', 'a', 5), 0);
    expect(sequences(network.takeDue(0))).toEqual([5]);
  });

  test('a partition also drops what was already in flight on the cut link', () => {
    const network = new SimNetwork(new SeededRandom(5), { ...perfect, delayTicksMin: 3, delayTicksMax: 3 });
    network.send(message('a', 'b', 1), 0);
    network.partition([['a'], ['b']]);
    expect(network.takeDue(3)).toEqual([]);
  });

  test('the same seed gives the same deliveries', () => {
    const run = (): number[][] => {
      const network = new SimNetwork(new SeededRandom(6), { dropProbability: 0.1, duplicateProbability: 0.1, delayTicksMin: 0, delayTicksMax: 4 });
      for (let i = 0; i < 100; i++) network.send(message('a', 'b', i), i % 7);
      return [0, 2, 4, 6, 8, 10, 12].map((tick) => sequences(network.takeDue(tick)));
    };
    expect(run()).toEqual(run());
  });
});
