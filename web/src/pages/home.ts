import type { User } from "../api/client";

export function homeFor(user: User): string {
  return user.role === "therapist" ? "/sessions" : "/therapists";
}

/** Where signing in lands: the private page that sent the visitor to sign in (a path of this app
 * only, never another site), or else their home. */
export function landingFor(user: User, state: unknown): string {
  const from = typeof state === "object" && state !== null && "from" in state ? state.from : null;
  const ours = typeof from === "string" && from.startsWith("/") && !from.startsWith("//");
  return ours ? from : homeFor(user);
}
