import type { User } from "../api/client";

export function homeFor(user: User): string {
  return user.role === "therapist" ? "/sessions" : "/therapists";
}
