/** Something the agent could not read or understand, reported instead of crashing. */
export interface Warning {
  /** The file (or directory) concerned, as a path under the configured roots. */
  source: string;
  message: string;
}

/** At most this many warnings are kept per report, so a broken tree cannot bloat it. */
export const MAX_WARNINGS = 32;

/**
 * Collects warnings for one report, keeping the first {@link MAX_WARNINGS} and counting the rest.
 *
 * @example
 * const warnings = new Warnings();
 * warnings.add("/proc/stat", "missing");
 * warnings.list(); // [{ source: "/proc/stat", message: "missing" }]
 */
export class Warnings {
  readonly #items: Warning[] = [];
  #droppedCount = 0;

  /**
   * Records one warning, or counts it as dropped once the limit is reached. A repeat of a
   * kept warning is ignored: both telemetry samples read the same files and would say it twice.
   */
  add(source: string, message: string): void {
    if (this.#items.some((item) => item.source === source && item.message === message)) return;
    if (this.#items.length < MAX_WARNINGS) this.#items.push({ source, message });
    else this.#droppedCount += 1;
  }

  /** The kept warnings, followed by one summary entry when some were dropped. */
  list(): Warning[] {
    if (this.#droppedCount === 0) return [...this.#items];
    return [
      ...this.#items,
      { source: "host-agent", message: `${this.#droppedCount} more warnings dropped` },
    ];
  }
}
