import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ApiError, describeError, unwrap, type User } from "../api/client";
import { displayPhone, formatPhoneInput, phoneError, normalisePhone } from "../lib/phone";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { Banner, ErrorMessage } from "../ui/Status";

export function Profile({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const [fullName, setFullName] = useState(user.full_name);
  const [phone, setPhone] = useState(displayPhone(user.phone));
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const localError = touched && phone.trim() !== "" ? phoneError(phone) : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (phone.trim() !== "" && normalisePhone(phone) === null) return;
    setBusy(true);
    setSaved(false);
    setFailure(null);
    try {
      const updated = await unwrap(
        api.PATCH("/v1/me", {
          body: { full_name: fullName, phone: phone.trim() === "" ? null : normalisePhone(phone) },
        }),
      );
      queryClient.setQueriesData({ queryKey: ["me"] }, updated);
      setSaved(true);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow">
      <h1>Your profile</h1>
      <p className="muted">
        {user.email} · {user.role}
      </p>
      <form onSubmit={submit} noValidate>
        <Field label="Full name" name="full_name" value={fullName} onChange={(e) => setFullName(e.target.value)} />
        <Field
          label="M-Pesa phone number"
          name="phone"
          type="tel"
          inputMode="tel"
          value={phone}
          onChange={(e) => setPhone(formatPhoneInput(e.target.value))}
          onBlur={() => setTouched(true)}
          hint="Payment prompts go to this number unless you choose another when you pay."
          error={localError ?? (failure instanceof ApiError ? failure.fieldMessage("phone") : undefined)}
        />
        {failure !== null && <ErrorMessage>{describeError(failure)}</ErrorMessage>}
        {saved && <Banner tone="ok" live>Saved.</Banner>}
        <Button type="submit" busy={busy}>
          Save
        </Button>
      </form>
    </section>
  );
}
