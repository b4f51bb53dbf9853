import { Component, h, type FunctionComponent } from "preact";

/**
 * Renders `fn` again only when a prop changed (shallow). Preact's core has no
 * memo() (preact/compat's would pull the whole compat layer in). The props
 * must carry everything the component shows.
 */
export function memo<P extends object>(fn: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const n = next as Record<string, unknown>;
      for (const k in n) if (n[k] !== prev[k]) return true;
      for (const k in prev) if (!(k in n)) return true;
      return false;
    }
    override render(props: P) {
      return h(fn, props);
    }
  }
  (Memo as unknown as { displayName: string }).displayName = `Memo(${fn.displayName || fn.name})`;
  return Memo as unknown as FunctionComponent<P>;
}
