import { useSyncExternalStore } from "react";

/** Whether the API answered the last request (a network failure, not a refusal, marks it lost). */
let reachable = true;
const listeners = new Set<() => void>();

export function reportReachable(value: boolean): void {
  if (value === reachable) return;
  reachable = value;
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener("online", listener);
  window.addEventListener("offline", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("online", listener);
    window.removeEventListener("offline", listener);
  };
}

/** False while the browser is offline or the API cannot be reached. */
export function useConnected(): boolean {
  return useSyncExternalStore(subscribe, () => reachable && navigator.onLine);
}
