/**
 * A binary min-heap whose items can be found, re-keyed and removed by id in O(log n). Every
 * policy's hot path is built on it so that no decision scans the whole queue.
 */
export class IndexedHeap<T> {
  private readonly items: T[] = [];
  private readonly positions = new Map<string, number>();
  /** Scratch for `visitWhile`, kept so a visit does not allocate. */
  private readonly stack: number[] = [];

  /**
   * @param less strict order; ties must be broken (e.g. by a sequence number) so that the pop
   *   order is a pure function of the keys, which keeps exported and re-imported queues identical.
   * @param idOf the item's unique id.
   */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly idOf: (item: T) => string,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(id: string): boolean {
    return this.positions.has(id);
  }

  get(id: string): T | undefined {
    const at = this.positions.get(id);
    return at === undefined ? undefined : this.items[at];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item; its id must not be present. */
  push(item: T): void {
    const id = this.idOf(item);
    if (this.positions.has(id)) throw new Error(`heap already holds ${id}`);
    this.items.push(item);
    this.positions.set(id, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(id: string): T | undefined {
    const at = this.positions.get(id);
    if (at === undefined) return undefined;
    const item = this.items[at];
    this.removeAt(at);
    return item;
  }

  /** Restores heap order after the key of item `id` changed in place. */
  update(id: string): void {
    const at = this.positions.get(id);
    if (at === undefined) return;
    if (!this.up(at)) this.down(at);
  }

  /**
   * Visits the items for which `within` holds, parents before children, at most `limit` of
   * them. A subtree whose root fails `within` is skipped whole, so when `within` selects the
   * smallest keys (say, every item within some bound of the minimum) exactly those are visited,
   * the minimum first, in O(visited) time and without allocating.
   */
  visitWhile(within: (item: T) => boolean, visit: (item: T) => void, limit: number): void {
    const stack = this.stack;
    stack.length = 0;
    if (this.items.length > 0) stack.push(0);
    let visited = 0;
    while (stack.length > 0 && visited < limit) {
      const at = stack.pop() as number;
      const item = this.items[at];
      if (item === undefined || !within(item)) continue;
      visit(item);
      visited++;
      stack.push(2 * at + 2, 2 * at + 1);
    }
  }

  /** The items in no particular order (for export). */
  values(): readonly T[] {
    return this.items;
  }

  clear(): void {
    this.items.length = 0;
    this.positions.clear();
  }

  private removeAt(at: number): void {
    const item = this.items[at] as T;
    this.positions.delete(this.idOf(item));
    const last = this.items.pop() as T;
    if (at === this.items.length) return;
    this.items[at] = last;
    this.positions.set(this.idOf(last), at);
    if (!this.up(at)) this.down(at);
  }

  /** Sifts up; true if the item moved. */
  private up(start: number): boolean {
    const items = this.items;
    const item = items[start] as T;
    let at = start;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt] as T;
      if (!this.less(item, parent)) break;
      items[at] = parent;
      this.positions.set(this.idOf(parent), at);
      at = parentAt;
    }
    if (at === start) return false;
    items[at] = item;
    this.positions.set(this.idOf(item), at);
    return true;
  }

  private down(start: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[start] as T;
    let at = start;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.less(items[right] as T, items[left] as T)) child = right;
      const childItem = items[child] as T;
      if (!this.less(childItem, item)) break;
      items[at] = childItem;
      this.positions.set(this.idOf(childItem), at);
      at = child;
    }
    if (at === start) return;
    items[at] = item;
    this.positions.set(this.idOf(item), at);
  }
}
