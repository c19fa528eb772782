import type { ReactNode } from "react";

export type Tone = "ok" | "warn" | "bad" | "info" | "muted";

const ICONS: Record<Tone, string> = { ok: "✓", warn: "!", bad: "✕", info: "…", muted: "○" };

/** A status in words with an icon: never colour alone. */
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return (
    <span className={`badge badge-${tone}`}>
      <span aria-hidden="true">{ICONS[tone]}</span> {children}
    </span>
  );
}

export function Banner({
  tone,
  children,
  live = false,
}: {
  tone: Tone;
  children: ReactNode;
  live?: boolean;
}) {
  return (
    <div className={`banner banner-${tone}`} role={live ? "status" : undefined}>
      {children}
    </div>
  );
}

export function ErrorMessage({ children }: { children: ReactNode }) {
  return (
    <p className="form-error" role="alert">
      {children}
    </p>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}
