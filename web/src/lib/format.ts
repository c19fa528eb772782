export const NAIROBI = "Africa/Nairobi";

const kes = new Intl.NumberFormat("en-KE", { maximumFractionDigits: 0 });

/** `KES 2,500` (kept on one line): money is whole shillings everywhere. */
export function formatKes(amount: number): string {
  return `KES\u00a0${kes.format(amount)}`;
}

const dateTime = new Intl.DateTimeFormat("en-KE", {
  timeZone: NAIROBI,
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

/** A moment as people in Nairobi read it: `Tue, 1 Dec 2026, 14:00`. */
export function formatNairobi(iso: string): string {
  return dateTime.format(new Date(iso));
}

/** A date (`2026-12-01`) and time (`14:00`) on a Nairobi wall clock, as ISO 8601 with its
 * offset. Kenya keeps +03:00 all year. */
export function nairobiToIso(date: string, time: string): string {
  return `${date}T${time}:00+03:00`;
}

/** Today's date in Nairobi, `YYYY-MM-DD`. */
export function nairobiToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: NAIROBI }).format(now);
}

/** `0:45`: what is left of a countdown. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function humanise(code: string): string {
  const text = code.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
