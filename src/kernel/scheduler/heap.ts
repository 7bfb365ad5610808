/**
 * A binary min-heap whose items can be found, re-keyed and removed by id in O(log n). Every
 * policy's hot path is built on it so that no decision scans the whole queue.
 *
 * Items sit in small nodes that carry their own array position, so a sift step writes a field
 * instead of updating a map; the id map is touched once per push, pop or removal. Items are
 * never modified (one object may sit in several heaps).
 */

interface Node<T> {
  item: T;
  at: number;
}

export class IndexedHeap<T> {
  private readonly nodes: Node<T>[] = [];
  private readonly byId = new Map<string, Node<T>>();
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
    return this.nodes.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): T | undefined {
    return this.byId.get(id)?.item;
  }

  peek(): T | undefined {
    return this.nodes[0]?.item;
  }

  /** Adds an item; its id must not be present. */
  push(item: T): void {
    const id = this.idOf(item);
    if (this.byId.has(id)) throw new Error(`heap already holds ${id}`);
    const node: Node<T> = { item, at: this.nodes.length };
    this.nodes.push(node);
    this.byId.set(id, node);
    this.up(node.at);
  }

  pop(): T | undefined {
    const top = this.nodes[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top.item;
  }

  remove(id: string): T | undefined {
    const node = this.byId.get(id);
    if (node === undefined) return undefined;
    this.removeAt(node.at);
    return node.item;
  }

  /** Restores heap order after the key of item `id` changed in place. */
  update(id: string): void {
    const node = this.byId.get(id);
    if (node === undefined) return;
    if (!this.up(node.at)) this.down(node.at);
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
    if (this.nodes.length > 0) stack.push(0);
    let visited = 0;
    while (stack.length > 0 && visited < limit) {
      const at = stack.pop() as number;
      const node = this.nodes[at];
      if (node === undefined || !within(node.item)) continue;
      visit(node.item);
      visited++;
      stack.push(2 * at + 2, 2 * at + 1);
    }
  }

  /** The items in no particular order (for export). */
  values(): T[] {
    return this.nodes.map((n) => n.item);
  }

  clear(): void {
    this.nodes.length = 0;
    this.byId.clear();
  }

  private removeAt(at: number): void {
    const node = this.nodes[at] as Node<T>;
    this.byId.delete(this.idOf(node.item));
    const last = this.nodes.pop() as Node<T>;
    if (at === this.nodes.length) return;
    this.nodes[at] = last;
    last.at = at;
    if (!this.up(at)) this.down(at);
  }

  /** Sifts up; true if the item moved. */
  private up(start: number): boolean {
    const nodes = this.nodes;
    const node = nodes[start] as Node<T>;
    let at = start;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = nodes[parentAt] as Node<T>;
      if (!this.less(node.item, parent.item)) break;
      nodes[at] = parent;
      parent.at = at;
      at = parentAt;
    }
    if (at === start) return false;
    nodes[at] = node;
    node.at = at;
    return true;
  }

  private down(start: number): void {
    const nodes = this.nodes;
    const n = nodes.length;
    const node = nodes[start] as Node<T>;
    let at = start;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.less((nodes[right] as Node<T>).item, (nodes[left] as Node<T>).item))
        child = right;
      const childNode = nodes[child] as Node<T>;
      if (!this.less(childNode.item, node.item)) break;
      nodes[at] = childNode;
      childNode.at = at;
      at = child;
    }
    if (at === start) return;
    nodes[at] = node;
    node.at = at;
  }
}
