// The only place the client keeps state between runs. Async key/value, the
// shape of localStorage and of React Native's AsyncStorage, so either (or a
// file, or IndexedDB) can sit behind it.

/** Async key/value storage for the client's token, position, user and outbox. */
export interface ClientStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** Kept in memory only: tests, Node tools, or an app that wants nothing saved. */
export class MemoryStorage implements ClientStorage {
  private readonly items = new Map<string, string>();

  async getItem(key: string): Promise<string | null> {
    return this.items.get(key) ?? null;
  }
  async setItem(key: string, value: string): Promise<void> {
    this.items.set(key, value);
  }
  async removeItem(key: string): Promise<void> {
    this.items.delete(key);
  }
  /** The keys held (for tests and debugging). */
  keys(): string[] {
    return [...this.items.keys()];
  }
}

/** What WebStorage needs of the browser's Storage (localStorage, sessionStorage). */
export interface WebStorageArea {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Browsers: wraps localStorage (or the Storage given), every key prefixed.
 * localStorage is looked up only here, when one is constructed, never at import.
 */
export class WebStorage implements ClientStorage {
  private readonly area: WebStorageArea;
  private readonly prefix: string;

  constructor(storage?: WebStorageArea, prefix = "preceptor.") {
    const area = storage ?? (globalThis as { localStorage?: WebStorageArea }).localStorage;
    if (!area) {
      throw new Error("WebStorage needs localStorage (a browser) or a Storage passed to its constructor.");
    }
    this.area = area;
    this.prefix = prefix;
  }

  async getItem(key: string): Promise<string | null> {
    return this.area.getItem(this.prefix + key);
  }
  async setItem(key: string, value: string): Promise<void> {
    this.area.setItem(this.prefix + key, value);
  }
  async removeItem(key: string): Promise<void> {
    this.area.removeItem(this.prefix + key);
  }
}
