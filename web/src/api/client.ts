import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type User = Schemas["UserOut"];
export type Attempt = Schemas["AttemptOut"];
export type Booking = Schemas["BookingOut"];
export type Therapist = Schemas["TherapistOut"];
export type AppConfig = Schemas["AppConfig"];

const TOKEN_KEY = "mpesa.token";

export const tokenStore = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (token: string) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** An answer the API refused, with the body session-api sends: `{"error", "detail", "fields"?}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: { field: string; message: string }[];

  constructor(status: number, body: unknown) {
    const parsed = (body ?? {}) as {
      error?: string;
      detail?: string;
      fields?: { field: string; message: string }[];
    };
    const detail = parsed.detail ?? `The server answered ${status}.`;
    super(detail);
    this.status = status;
    this.code = parsed.error ?? "HTTPError";
    this.detail = detail;
    this.fields = parsed.fields ?? [];
  }

  /** The message for one form field (`body.phone` → `phone`), if the server named it. */
  fieldMessage(name: string): string | undefined {
    return this.fields.find((f) => f.field.split(".").pop() === name)?.message;
  }
}

/** What a person is told about a failed request. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return "Your session has ended. Sign in again.";
    if (error.status >= 500) {
      return "Something went wrong on our side. Nothing was charged; please try again.";
    }
    return error.detail;
  }
  if (error instanceof TypeError) {
    return "We could not reach the server. Check your connection and try again.";
  }
  return error instanceof Error ? error.message : "Something went wrong.";
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The data of an openapi-fetch answer, or an ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    if (response.status === 401) tokenStore.clear();
    throw new ApiError(response.status, error);
  }
  return data;
}
